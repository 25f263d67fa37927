<?php
// A small client of the Scorpio Play v4 API, as an integrator's PHP backend calls it.
//
// Every call is POST /v4/<path> with the agent's API token as a Bearer token and a JSON body;
// every answer is HTTP 200 with the envelope {code, message, data} (spec 2.2).  A non-zero code
// throws ScorpioError; a busy platform (1018) is retried once after a pause.  Plain PHP streams:
// no extension beyond the standard build is needed (no curl).

declare(strict_types=1);

namespace ScorpioExample;

final class ScorpioError extends \RuntimeException
{
    public function __construct(public readonly string $path, int $code, string $message)
    {
        parent::__construct("/v4/$path failed with code $code: $message", $code);
    }
}

final class ScorpioClient
{
    public const SERVER_IS_BUSY = 1018;

    public function __construct(
        private string $baseUrl,
        private string $apiToken,
        private int $retryDelayMs = 200,
        private float $timeout = 10.0,
    ) {
        $this->baseUrl = rtrim($baseUrl, '/');
    }

    public function call(string $path, array $body = []): mixed
    {
        for ($attempt = 0; ; $attempt++) {
            $envelope = $this->post("{$this->baseUrl}/v4/$path", $body, ["Authorization: Bearer {$this->apiToken}"]);
            if (($envelope['code'] ?? null) === 0) {
                return $envelope['data'] ?? null;
            }
            if (($envelope['code'] ?? null) === self::SERVER_IS_BUSY && $attempt === 0) {
                usleep($this->retryDelayMs * 1000);
                continue;
            }
            throw new ScorpioError($path, (int) ($envelope['code'] ?? -1), (string) ($envelope['message'] ?? 'no envelope'));
        }
    }

    /** Creates the player (or finds it: user/create is idempotent per name); its user_code. */
    public function createUser(string $name): int
    {
        return $this->call('user/create', ['name' => $name])['user_code'];
    }

    public function balance(int $userCode): int|float
    {
        return $this->call('user/info', ['user_code' => $userCode])['balance'];
    }

    /** Moves agent points to the player's game balance (transfer mode); the new balance. */
    public function deposit(int $userCode, int|float $amount): int|float
    {
        return $this->call('wallet/deposit', ['user_code' => $userCode, 'amount' => $amount])['balance'];
    }

    /** Takes the player's whole game balance back to the agent; the amount taken. */
    public function withdrawAll(int $userCode): int|float
    {
        return $this->call('wallet/withdraw-all', ['user_code' => $userCode])['amount'];
    }

    /** A one-time game URL (valid 10 minutes, opens once) to send the player's browser to. */
    public function gameUrl(int $userCode, int $providerId, string $game, int $lang = 1, ?string $returnUrl = null): string
    {
        $body = ['user_code' => $userCode, 'provider_id' => $providerId, 'game_symbol' => $game, 'lang' => $lang];
        if ($returnUrl !== null) {
            $body['return_url'] = $returnUrl;
        }
        return $this->call('game/game-url', $body)['game_url'];
    }

    /** Transactions after a cursor (spec 5.21); the same cursor again within 30 s answers 1018 (OP-7). */
    public function transactionsAfter(int $lastId, int $limit = 1000): array
    {
        return $this->call('game/transaction-id', ['last_id' => $lastId, 'limit' => $limit]);
    }

    /** POST JSON, read JSON; an HTTP error status still returns its body (the platform answers 200). */
    public function post(string $url, array $body, array $headers = []): array
    {
        $context = stream_context_create(['http' => [
            'method' => 'POST',
            'header' => implode("\r\n", array_merge(['Content-Type: application/json'], $headers)),
            'content' => json_encode($body === [] ? new \stdClass() : $body),
            'timeout' => $this->timeout,
            'ignore_errors' => true,
        ]]);
        $text = @file_get_contents($url, false, $context);
        if ($text === false) {
            throw new \RuntimeException("cannot reach $url");
        }
        $decoded = json_decode($text, true);
        if (!is_array($decoded)) {
            throw new \RuntimeException("$url answered something that is not a JSON object: " . substr($text, 0, 200));
        }
        return $decoded;
    }
}
