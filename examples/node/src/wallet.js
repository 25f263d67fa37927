'use strict';
// A seamless wallet for the Scorpio Play v4 callback protocol (spec section 6), in Express.
//
// The platform POSTs every callback (authenticate, balance, bet, win, cancel, status) to one URL,
// here POST /callback, and reads HTTP 200 with a JSON body whose `result` says what happened.
// Both data dialects are understood (6.3): `v4` (trans_guid, cancel_trans_guid) and `legacy`
// (an integer trans_id; a cancel names the original trans_id).  The port of
// examples/wallet/wallet.py, the Python reference wallet: same checks, same answers.
//
// Accounts and transactions live in memory in `Ledger`: replace it with your database, keeping
// the rule that each callback runs its checks and its effect as one step (one DB transaction that
// locks the account row, and a unique key on the transaction id).  Node runs one callback's
// handler to its end before the next (no await inside), which is that step here.

const crypto = require('node:crypto');
const express = require('express');
const { BadAmount, fromUnits, toUnits } = require('./money');

/** The documented example callback token (spec 13.3): the simulator's demo_seamless agent sends it. */
const DEFAULT_TOKEN = 'eadd5a04-4720-4a10-ae60-b11cd01cc3aa';
/** The account of the vendor's tester and of the simulator's conformance runner (spec 13.3). */
const DEFAULT_ACCOUNTS = { test1234: 100000 };
/** The check string of each command (spec 6.5), appended when the request's is missing or short. */
const DEFAULT_CHECKS = {
  authenticate: [21],
  balance: [21, 22],
  bet: [21, 22, 41, 31],
  win: [21, 22, 41],
  cancel: [21, 22, 41, 43],
  status: [21, 42],
};
const LEGACY_CANCEL_CHECKS = [21, 22, 42];
/** Failed checks whose reply carries the current balance (spec 6.6). */
const CODES_WITH_BALANCE = new Set([31, 41, 42, 43, 99]);

class BadCallback extends Error {}

class Ledger {
  constructor(accounts = DEFAULT_ACCOUNTS, blocked = []) {
    this.accounts = new Map();
    for (const [name, balance] of Object.entries(accounts)) {
      this.accounts.set(name, { balance: toUnits(balance, 'balance'), blocked: false });
    }
    for (const name of blocked) {
      if (!this.accounts.has(name)) this.accounts.set(name, { balance: 0n, blocked: false });
      this.accounts.get(name).blocked = true;
    }
    /** Every bet, win and v4 cancel id ever applied, kept for good (spec 6.10). */
    this.transactions = new Map();
  }
}

/** v4 ids are strings, legacy ones integers: keyed apart so "5" and 5 never meet. */
function key(id) {
  return typeof id === 'string' ? `guid:${id}` : `id:${id}`;
}

function transactionId(data, dialect, name = 'trans_guid') {
  if (dialect === 'legacy') {
    let value = data.trans_id;
    if (typeof value === 'string' && /^\d+$/.test(value)) value = Number(value);
    if (!Number.isSafeInteger(value)) throw new BadCallback('trans_id must be an integer');
    return value;
  }
  const value = data[name];
  if (typeof value !== 'string' || value === '') throw new BadCallback(`${name} must be a non-empty string`);
  return value;
}

/** One callback read in its dialect: its own id (check 41) and the id it points at (42/43). */
function parseCallback(body, dialect) {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadCallback("body must be a JSON object with a 'data' object");
  }
  const data = body.data === undefined || body.data === null ? {} : body.data;
  if (typeof data !== 'object' || Array.isArray(data)) throw new BadCallback("'data' must be an object");
  const command = body.command;
  if (!Object.hasOwn(DEFAULT_CHECKS, command)) throw new BadCallback(`unknown command ${JSON.stringify(command)}`);
  if (dialect === 'auto') {
    const v4 = 'trans_guid' in data || 'cancel_trans_guid' in data || !('trans_id' in data);
    dialect = v4 ? 'v4' : 'legacy';
  }
  let ownId = null;
  let targetId = null;
  let amount = null;
  try {
    if (command === 'bet' || command === 'win') {
      ownId = transactionId(data, dialect);
      amount = toUnits(data.amount);
    } else if (command === 'cancel' && dialect === 'v4') {
      ownId = transactionId(data, dialect);
      targetId = transactionId(data, dialect, 'cancel_trans_guid');
    } else if (command === 'cancel' || command === 'status') {
      targetId = transactionId(data, dialect); // a legacy cancel names only its target
    }
  } catch (error) {
    if (error instanceof BadAmount) throw new BadCallback(error.message);
    throw error;
  }
  // The request's check string sets the order (6.6); the command's own checks are appended when
  // missing, so a short or absent string can never make the wallet pay twice.
  const defaults = command === 'cancel' && dialect === 'legacy' ? LEGACY_CANCEL_CHECKS : DEFAULT_CHECKS[command];
  const listed = (String(body.check ?? '').match(/\d+/g) || []).map(Number);
  const checks = listed.concat(defaults.filter((code) => !listed.includes(code)));
  const account = data.account === undefined || data.account === null ? null : String(data.account);
  return { command, dialect, account, ownId, targetId, amount, checks };
}

/** The transaction a callback points at, if this account has it (a cancel cannot be cancelled). */
function target(ledger, cb) {
  const found = cb.targetId === null ? undefined : ledger.transactions.get(key(cb.targetId));
  if (!found || found.account !== cb.account || (cb.command === 'cancel' && found.command === 'cancel')) {
    return null;
  }
  return found;
}

/** The first check of cb.checks that fails, or 0 (spec 6.6); unknown codes are skipped. */
function failedCheck(ledger, cb) {
  const account = cb.account === null ? undefined : ledger.accounts.get(cb.account);
  for (const code of cb.checks) {
    let ok = true;
    if (code === 21) ok = account !== undefined;
    else if (code === 22) ok = account !== undefined && !account.blocked;
    else if (code === 31) ok = account !== undefined && (cb.amount === null || account.balance >= cb.amount);
    else if (code === 41) ok = cb.ownId === null || !ledger.transactions.has(key(cb.ownId));
    else if (code === 42 || code === 43) ok = target(ledger, cb) !== null;
    if (!ok) return code;
  }
  return 0;
}

/** Carry out a callback whose checks passed; the reply's `data` (spec 6.7, 6.10). */
function apply(ledger, cb) {
  const account = ledger.accounts.get(cb.account);
  if (cb.command === 'authenticate') return { account: cb.account, balance: fromUnits(account.balance) };
  if (cb.command === 'balance') return { balance: fromUnits(account.balance) };
  if (cb.command === 'status') {
    const found = target(ledger, cb);
    if (cb.dialect === 'legacy') return { trans_id: found.id, trans_status: found.status };
    return { account: cb.account, trans_guid: found.id, trans_status: found.status };
  }
  let amount = cb.amount;
  if (cb.command === 'bet') account.balance -= amount;
  else if (cb.command === 'win') account.balance += amount; // a win of 0 is still stored below
  else if (cb.command === 'cancel') {
    // Reverse what the target really moved; a second cancel of it succeeds and moves nothing.
    const found = target(ledger, cb);
    amount = found.amount;
    if (found.status !== 'CANCELED') {
      account.balance += found.command === 'bet' ? amount : -amount; // a win is clawed back, even below 0
      found.status = 'CANCELED';
    }
  }
  if (cb.ownId !== null) {
    ledger.transactions.set(key(cb.ownId), {
      id: cb.ownId,
      command: cb.command,
      account: cb.account,
      amount,
      status: 'OK',
      cancels: cb.targetId,
    });
  }
  return { balance: fromUnits(account.balance) };
}

/** The reply to one callback body whose token was already accepted. */
function handle(ledger, body, dialect) {
  let cb;
  try {
    cb = parseCallback(body, dialect);
  } catch (error) {
    if (!(error instanceof BadCallback)) throw error;
    return { result: 99, status: 'ERROR', message: error.message };
  }
  const code = failedCheck(ledger, cb);
  if (code === 0) return { result: 0, status: 'OK', data: apply(ledger, cb) };
  const reply = { result: code, status: 'ERROR' };
  const account = cb.account === null ? undefined : ledger.accounts.get(cb.account);
  if (CODES_WITH_BALANCE.has(code) && account !== undefined) reply.data = { balance: fromUnits(account.balance) };
  return reply;
}

function sameToken(sent, expected) {
  const a = Buffer.from(String(sent));
  const b = Buffer.from(expected);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}

/** The Express app: POST /callback, plus GET/POST /accounts for people and tests (not the protocol). */
function createWallet({ token = DEFAULT_TOKEN, dialect = 'auto', accounts = DEFAULT_ACCOUNTS, blocked = [] } = {}) {
  const ledger = new Ledger(accounts, blocked);
  const app = express();
  app.disable('x-powered-by');
  // Read the body as text and parse it here: a body that is not JSON is answered 99, still HTTP 200.
  app.use(express.text({ type: () => true, limit: '1mb' }));

  app.post('/callback', (req, res) => {
    if (!sameToken(req.get('Callback-Token') ?? '', token)) {
      return res.json({ result: 100, status: 'ERROR' });
    }
    let body;
    try {
      body = JSON.parse(typeof req.body === 'string' && req.body !== '' ? req.body : 'null');
    } catch {
      return res.json({ result: 99, status: 'ERROR', message: 'body is not valid JSON' });
    }
    const reply = handle(ledger, body, dialect);
    const id = reply.result === 99 ? '' : ` ${body?.data?.trans_guid ?? body?.data?.trans_id ?? ''}`;
    console.log(`${body?.command ?? '?'} account=${body?.data?.account ?? '-'}${id} -> ${reply.result}`);
    return res.json(reply);
  });

  app.get('/accounts', (req, res) => {
    const shown = {};
    for (const [name, account] of ledger.accounts) {
      shown[name] = { balance: fromUnits(account.balance), blocked: account.blocked };
    }
    const transactions = [...ledger.transactions.values()].map((tx) => ({ ...tx, amount: fromUnits(tx.amount) }));
    res.json({ accounts: shown, transactions });
  });

  app.post('/accounts', (req, res) => {
    let body;
    try {
      body = JSON.parse(req.body || 'null');
    } catch {
      body = null;
    }
    if (!body || typeof body.account !== 'string' || body.account === '') {
      return res.status(400).json({ error: 'expected {"account": NAME, "balance": N, "blocked": BOOL}' });
    }
    let balance = null;
    try {
      if ('balance' in body) balance = toUnits(body.balance, 'balance');
    } catch (error) {
      return res.status(400).json({ error: error.message });
    }
    if (!ledger.accounts.has(body.account)) ledger.accounts.set(body.account, { balance: 0n, blocked: false });
    const account = ledger.accounts.get(body.account);
    if (balance !== null) account.balance = balance;
    if ('blocked' in body) account.blocked = Boolean(body.blocked);
    return res.json({ account: body.account, balance: fromUnits(account.balance), blocked: account.blocked });
  });

  // Processing failed after the checks (a database error in a real wallet): 99, still HTTP 200.
  app.use((error, req, res, next) => {
    if (res.headersSent) return next(error);
    console.error(error);
    return res.status(200).json({ result: 99, status: 'ERROR' });
  });
  return { app, ledger };
}

function main(argv) {
  const options = { host: '127.0.0.1', port: 8090, token: DEFAULT_TOKEN, dialect: 'auto' };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '');
    if (!(name in options) || argv[i + 1] === undefined) {
      console.error('usage: node src/wallet.js [--host 127.0.0.1] [--port 8090] [--token T] [--dialect auto|v4|legacy]');
      process.exit(2);
    }
    options[name] = name === 'port' ? Number(argv[i + 1]) : argv[i + 1];
  }
  const { app } = createWallet(options);
  const server = app.listen(options.port, options.host, () => {
    console.log(`node wallet on http://${options.host}:${server.address().port}/callback (dialect ${options.dialect})`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (require.main === module) main(process.argv.slice(2));

module.exports = { DEFAULT_TOKEN, Ledger, createWallet, handle, parseCallback };
