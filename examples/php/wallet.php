<?php
// The seamless wallet's front door, for PHP's built-in server:
//
//   WALLET_STATE=/tmp/wallet.json php -S 127.0.0.1:8090 examples/php/wallet.php
//
// POST /callback answers the platform's six commands (always HTTP 200 with a JSON body);
// GET /accounts shows balances and transactions, POST /accounts {"account","balance","blocked"}
// sets one (for people and tests, not part of the protocol).  Settings from the environment:
// WALLET_TOKEN (default: the documented example callback token), WALLET_STATE (the JSON state
// file, default scorpio-wallet.json in the temp directory), WALLET_DIALECT (auto, v4 or legacy).

declare(strict_types=1);

require __DIR__ . '/src/Money.php';
require __DIR__ . '/src/Wallet.php';

use ScorpioExample\BadAmount;
use ScorpioExample\FileLedger;
use ScorpioExample\Money;
use ScorpioExample\Wallet;

ini_set('serialize_precision', '-1'); // floats as the shortest exact form: 0.9, never 0.90000000000000002
ini_set('display_errors', '0');

function reply(array $payload, int $status = 200): void
{
    http_response_code($status);
    header('Content-Type: application/json');
    echo json_encode($payload, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
}

$token = getenv('WALLET_TOKEN') ?: Wallet::DEFAULT_TOKEN;
$dialect = getenv('WALLET_DIALECT') ?: 'auto';
$ledger = new FileLedger(getenv('WALLET_STATE') ?: sys_get_temp_dir() . '/scorpio-wallet.json');
$path = parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH);
$method = $_SERVER['REQUEST_METHOD'] ?? 'GET';

try {
    if ($path === '/callback' && $method === 'POST') {
        // The platform sends the header exactly as `Callback-Token` (spec 13.1); PHP's server
        // hands it over as HTTP_CALLBACK_TOKEN.  A wrong token is answered before the body is read.
        if (!hash_equals($token, (string) ($_SERVER['HTTP_CALLBACK_TOKEN'] ?? ''))) {
            reply(['result' => 100, 'status' => 'ERROR']);
            return;
        }
        $raw = (string) file_get_contents('php://input');
        $answer = $ledger->transaction(fn (array &$state) => (new Wallet($state, $dialect))->handle($raw));
        error_log(sprintf('callback %s -> %s', json_decode($raw, true)['command'] ?? '?', $answer['result']));
        reply($answer);
    } elseif ($path === '/accounts' && $method === 'GET') {
        reply($ledger->transaction(function (array &$state): array {
            $accounts = [];
            foreach ($state['accounts'] as $name => $account) {
                $accounts[$name] = ['balance' => Money::fromUnits($account['balance']), 'blocked' => $account['blocked']];
            }
            $transactions = array_map(
                fn (array $tx) => ['amount' => Money::fromUnits($tx['amount'])] + $tx,
                array_values($state['transactions'])
            );
            return ['accounts' => (object) $accounts, 'transactions' => $transactions];
        }));
    } elseif ($path === '/accounts' && $method === 'POST') {
        $body = json_decode((string) file_get_contents('php://input'), true);
        if (!is_array($body) || !is_string($body['account'] ?? null) || $body['account'] === '') {
            reply(['error' => 'expected {"account": NAME, "balance": N, "blocked": BOOL}'], 400);
            return;
        }
        $balance = array_key_exists('balance', $body) ? Money::toUnits($body['balance'], 'balance') : null;
        reply($ledger->transaction(function (array &$state) use ($body, $balance): array {
            $account = $state['accounts'][$body['account']] ?? ['balance' => 0, 'blocked' => false];
            if ($balance !== null) {
                $account['balance'] = $balance;
            }
            if (array_key_exists('blocked', $body)) {
                $account['blocked'] = (bool) $body['blocked'];
            }
            $state['accounts'][$body['account']] = $account;
            return ['account' => $body['account'], 'balance' => Money::fromUnits($account['balance']), 'blocked' => $account['blocked']];
        }));
    } else {
        reply(['error' => "no route $method $path"], 404);
    }
} catch (BadAmount $error) {
    reply(['error' => $error->getMessage()], 400);
} catch (Throwable $error) {
    // Processing failed after the checks (a database error in a real wallet): 99, still HTTP 200,
    // so the platform reads the body; it retries wins and cancels (spec 6.6, 6.9).
    error_log((string) $error);
    reply(['result' => 99, 'status' => 'ERROR']);
}
