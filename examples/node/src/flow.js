'use strict';
// The transfer-mode flow of an integration (spec 1.4, 5.4-5.8, 5.12, 5.21), end to end:
// create a player, deposit, launch a game, (let the player play), read the history, withdraw all.
//
//   SCORPIO_SIM_URL=http://127.0.0.1:8080 SCORPIO_TOKEN=<agent API token> node src/flow.js [--play N]
//
// It prints one JSON object with what each step answered.  --play N plays N rounds through the
// launched URL the way the player's browser would (the game page's JSON spin API), so the history
// has bets and wins to read; a real backend only hands the URL to the player.

const { ScorpioClient } = require('./scorpio');

const DOCUMENTED_TOKEN = 'ed45553e-1702-4342-a70d-09bf7ff7f568'; // the simulator's `demo` agent (13.3)

/** What the player's browser does: open the one-time URL, then press Spin on the game page. */
async function playThroughLaunch(gameUrl, rounds, stake) {
  const opened = await fetch(gameUrl, { redirect: 'manual' });
  const page = new URL(opened.headers.get('location'), gameUrl); // /play/session/<secret>
  const spinUrl = new URL(page.pathname.replace('/play/session/', '/play/api/session/') + '/spin', page);
  const results = [];
  for (let i = 0; i < rounds; i += 1) {
    const response = await fetch(spinUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ bet: stake }),
    });
    const round = await response.json();
    if (!response.ok) throw new Error(`spin refused: ${round.error}: ${round.message}`);
    results.push({ round_id: round.round_id, bet: round.bet, win: round.win, balance: round.balance });
  }
  return results;
}

async function transferFlow(client, { name, deposit, providerId, game, rounds, stake }) {
  const userCode = await client.createUser(name);
  const afterDeposit = await client.deposit(userCode, deposit);
  const gameUrl = await client.gameUrl(userCode, providerId, game, { returnUrl: 'https://casino.example/lobby' });
  const played = rounds > 0 ? await playThroughLaunch(gameUrl, rounds, stake) : [];
  const rows = (await client.transactionsAfter(0)).filter((row) => row.user_code === userCode);
  const balanceBefore = await client.balance(userCode);
  const withdrawn = await client.withdrawAll(userCode);
  return {
    user_code: userCode,
    deposit_balance: afterDeposit,
    game_url: gameUrl,
    rounds: played,
    history: rows.map((row) => ({
      trans_id: row.trans_id,
      trans_type: row.trans_type,
      round_id: row.round_id,
      amount: row.trans_amount,
      balance: row.balance,
    })),
    balance_before_withdrawal: balanceBefore,
    withdrawn,
    balance_after: await client.balance(userCode),
  };
}

function parseArgs(argv) {
  const options = { name: `node_${Date.now() % 100000000}`, deposit: 50000, play: 0, stake: 100 };
  options.provider = 1;
  options.game = 'vs20fruitsw';
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '');
    if (!(name in options) || argv[i + 1] === undefined) {
      throw new Error(`unknown option ${argv[i]}: use --name, --deposit, --play, --stake, --provider, --game`);
    }
    options[name] = ['deposit', 'play', 'stake', 'provider'].includes(name) ? Number(argv[i + 1]) : argv[i + 1];
  }
  return options;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const client = new ScorpioClient(
    process.env.SCORPIO_SIM_URL || 'http://127.0.0.1:8080',
    process.env.SCORPIO_TOKEN || DOCUMENTED_TOKEN,
  );
  const result = await transferFlow(client, {
    name: options.name,
    deposit: options.deposit,
    providerId: options.provider,
    game: options.game,
    rounds: options.play,
    stake: options.stake,
  });
  console.log(JSON.stringify(result, null, 2));
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error.message);
    process.exit(1);
  });
}

module.exports = { playThroughLaunch, transferFlow };
