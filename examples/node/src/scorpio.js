'use strict';
// A small client of the Scorpio Play v4 API, as an integrator's backend calls it.
//
// Every call is POST /v4/<path> with the agent's API token as a Bearer token and a JSON body;
// every answer is HTTP 200 with the envelope {code, message, data} (spec 2.2).  A non-zero code
// throws ScorpioError; a busy platform (1018, spec OP-6/OP-7) is retried once after a pause.

const SERVER_IS_BUSY = 1018;

class ScorpioError extends Error {
  constructor(path, code, message) {
    super(`/v4/${path} failed with code ${code}: ${message}`);
    this.path = path;
    this.code = code;
  }
}

class ScorpioClient {
  constructor(baseUrl, apiToken, { retryDelayMs = 200, timeoutMs = 10000 } = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.apiToken = apiToken;
    this.retryDelayMs = retryDelayMs;
    this.timeoutMs = timeoutMs;
  }

  async call(path, body = {}) {
    for (let attempt = 0; ; attempt += 1) {
      const response = await fetch(`${this.baseUrl}/v4/${path}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${this.apiToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const envelope = await response.json();
      if (envelope.code === 0) return envelope.data;
      if (envelope.code === SERVER_IS_BUSY && attempt === 0) {
        await new Promise((resolve) => setTimeout(resolve, this.retryDelayMs));
        continue;
      }
      throw new ScorpioError(path, envelope.code, envelope.message);
    }
  }

  /** Creates the player (or finds it: user/create is idempotent per name); its user_code. */
  async createUser(name) {
    return (await this.call('user/create', { name })).user_code;
  }

  async balance(userCode) {
    return (await this.call('user/info', { user_code: userCode })).balance;
  }

  /** Moves agent points to the player's game balance (transfer mode); the new balance. */
  async deposit(userCode, amount) {
    return (await this.call('wallet/deposit', { user_code: userCode, amount })).balance;
  }

  /** Takes the player's whole game balance back to the agent; the amount taken. */
  async withdrawAll(userCode) {
    return (await this.call('wallet/withdraw-all', { user_code: userCode })).amount;
  }

  /** A one-time game URL (valid 10 minutes, opens once) to send the player's browser to. */
  async gameUrl(userCode, providerId, gameSymbol, { lang = 1, returnUrl } = {}) {
    const body = { user_code: userCode, provider_id: providerId, game_symbol: gameSymbol, lang };
    if (returnUrl) body.return_url = returnUrl;
    return (await this.call('game/game-url', body)).game_url;
  }

  /**
   * Transactions after a cursor (spec 5.21): keep the last trans_id and ask again from there.
   * Polls of the same cursor closer than 30 s answer 1018 (OP-7), so a backend polls on a timer.
   */
  async transactionsAfter(lastId, limit = 1000) {
    return this.call('game/transaction-id', { last_id: lastId, limit });
  }
}

module.exports = { SERVER_IS_BUSY, ScorpioClient, ScorpioError };
