<?php
// The transfer-mode flow of an integration (spec 1.4, 5.4-5.8, 5.12, 5.21), end to end:
// create a player, deposit, launch a game, (let the player play), read the history, withdraw all.
//
//   SCORPIO_SIM_URL=http://127.0.0.1:8080 SCORPIO_TOKEN=<agent API token> php examples/php/flow.php [--play N]
//
// It prints one JSON object with what each step answered.  --play N plays N rounds through the
// launched URL the way the player's browser would (the game page's JSON spin API), so the history
// has bets and wins to read; a real backend only hands the URL to the player.

declare(strict_types=1);

require __DIR__ . '/src/ScorpioClient.php';

use ScorpioExample\ScorpioClient;

const DOCUMENTED_TOKEN = 'ed45553e-1702-4342-a70d-09bf7ff7f568'; // the simulator's `demo` agent (13.3)

/** What the player's browser does: open the one-time URL, then press Spin on the game page. */
function playThroughLaunch(ScorpioClient $client, string $gameUrl, int $rounds, int|float $stake): array
{
    $context = stream_context_create(['http' => ['follow_location' => 0, 'ignore_errors' => true]]);
    file_get_contents($gameUrl, false, $context);
    $location = null;
    foreach ($http_response_header as $header) {
        if (stripos($header, 'Location:') === 0) {
            $location = trim(substr($header, 9));
        }
    }
    if ($location === null) {
        throw new RuntimeException("the game URL did not open: {$http_response_header[0]}");
    }
    $origin = parse_url($gameUrl, PHP_URL_SCHEME) . '://' . parse_url($gameUrl, PHP_URL_HOST) . ':' . parse_url($gameUrl, PHP_URL_PORT);
    $spinUrl = $origin . str_replace('/play/session/', '/play/api/session/', parse_url($location, PHP_URL_PATH)) . '/spin';
    $played = [];
    for ($i = 0; $i < $rounds; $i++) {
        $round = $client->post($spinUrl, ['bet' => $stake]);
        if (!isset($round['round_id'])) {
            throw new RuntimeException('spin refused: ' . json_encode($round));
        }
        $played[] = ['round_id' => $round['round_id'], 'bet' => $round['bet'], 'win' => $round['win'], 'balance' => $round['balance']];
    }
    return $played;
}

function transferFlow(ScorpioClient $client, array $options): array
{
    $userCode = $client->createUser($options['name']);
    $afterDeposit = $client->deposit($userCode, $options['deposit']);
    $gameUrl = $client->gameUrl($userCode, $options['provider'], $options['game'], 1, 'https://casino.example/lobby');
    $rounds = $options['play'] > 0 ? playThroughLaunch($client, $gameUrl, $options['play'], $options['stake']) : [];
    $history = [];
    foreach ($client->transactionsAfter(0) as $row) {
        if ($row['user_code'] === $userCode) {
            $history[] = [
                'trans_id' => $row['trans_id'],
                'trans_type' => $row['trans_type'],
                'round_id' => $row['round_id'],
                'amount' => $row['trans_amount'],
                'balance' => $row['balance'],
            ];
        }
    }
    $before = $client->balance($userCode);
    $withdrawn = $client->withdrawAll($userCode);
    return [
        'user_code' => $userCode,
        'deposit_balance' => $afterDeposit,
        'game_url' => $gameUrl,
        'rounds' => $rounds,
        'history' => $history,
        'balance_before_withdrawal' => $before,
        'withdrawn' => $withdrawn,
        'balance_after' => $client->balance($userCode),
    ];
}

$options = ['name' => 'php_' . (time() % 100000000), 'deposit' => 50000, 'play' => 0, 'stake' => 100, 'provider' => 1, 'game' => 'vs20fruitsw'];
$args = array_slice($argv, 1);
for ($i = 0; $i < count($args); $i += 2) {
    $name = ltrim($args[$i], '-');
    if (!array_key_exists($name, $options) || !isset($args[$i + 1])) {
        fwrite(STDERR, "unknown option {$args[$i]}: use --name, --deposit, --play, --stake, --provider, --game\n");
        exit(2);
    }
    $options[$name] = in_array($name, ['deposit', 'play', 'stake', 'provider'], true) ? (int) $args[$i + 1] : $args[$i + 1];
}

ini_set('serialize_precision', '-1');
try {
    $client = new ScorpioClient(getenv('SCORPIO_SIM_URL') ?: 'http://127.0.0.1:8080', getenv('SCORPIO_TOKEN') ?: DOCUMENTED_TOKEN);
    echo json_encode(transferFlow($client, $options), JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES), "\n";
} catch (Throwable $error) {
    fwrite(STDERR, $error->getMessage() . "\n");
    exit(1);
}
