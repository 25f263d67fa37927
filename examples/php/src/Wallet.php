<?php
// A seamless wallet for the Scorpio Play v4 callback protocol (spec section 6), in plain PHP.
//
// The port of examples/wallet/wallet.py (the Python reference wallet): the same checks in the
// order the platform's `check` string gives (6.6), the same replies (6.7), idempotency and cancel
// semantics (6.10), both dialects (6.3): `v4` (trans_guid, cancel_trans_guid) and `legacy` (an
// integer trans_id; a cancel names the original trans_id).
//
// State lives in a JSON file (FileLedger), locked for the whole callback, so the checks and the
// effect are one step even with several PHP workers: of two identical bets arriving together, one
// is applied and the other fails check 41.  With a database, keep that rule: one transaction per
// callback that locks the account row (SELECT ... FOR UPDATE) and a unique key on the id.

declare(strict_types=1);

namespace ScorpioExample;

final class BadCallback extends \RuntimeException
{
}

final class Wallet
{
    /** The documented example callback token (spec 13.3): the simulator's demo_seamless agent sends it. */
    public const DEFAULT_TOKEN = 'eadd5a04-4720-4a10-ae60-b11cd01cc3aa';
    /** The account of the vendor's tester and of the simulator's conformance runner (spec 13.3). */
    public const DEFAULT_ACCOUNTS = ['test1234' => 100000];
    /** The check string of each command (spec 6.5), appended when the request's is missing or short. */
    public const DEFAULT_CHECKS = [
        'authenticate' => [21],
        'balance' => [21, 22],
        'bet' => [21, 22, 41, 31],
        'win' => [21, 22, 41],
        'cancel' => [21, 22, 41, 43],
        'status' => [21, 42],
    ];
    public const LEGACY_CANCEL_CHECKS = [21, 22, 42];
    /** Failed checks whose reply carries the current balance (spec 6.6). */
    public const CODES_WITH_BALANCE = [31, 41, 42, 43, 99];

    /** @param array{accounts: array, transactions: array} $state the ledger, changed in place */
    public function __construct(private array &$state, private string $dialect = 'auto')
    {
    }

    /** The reply to one callback body whose Callback-Token was already accepted. */
    public function handle(string $raw): array
    {
        try {
            $cb = $this->parse($raw);
        } catch (BadCallback $error) {
            return ['result' => 99, 'status' => 'ERROR', 'message' => $error->getMessage()];
        }
        $code = $this->failedCheck($cb);
        if ($code === 0) {
            return ['result' => 0, 'status' => 'OK', 'data' => $this->apply($cb)];
        }
        $reply = ['result' => $code, 'status' => 'ERROR'];
        $account = $cb['account'] === null ? null : ($this->state['accounts'][$cb['account']] ?? null);
        if (in_array($code, self::CODES_WITH_BALANCE, true) && $account !== null) {
            $reply['data'] = ['balance' => Money::fromUnits($account['balance'])];
        }
        return $reply;
    }

    /** One callback read in its dialect: its own id (check 41) and the id it points at (42/43). */
    private function parse(string $raw): array
    {
        $body = json_decode($raw, true, 64, JSON_BIGINT_AS_STRING);
        if (!is_array($body) || array_is_list($body) && $body !== []) {
            throw new BadCallback("body must be a JSON object with a 'data' object");
        }
        $data = $body['data'] ?? [];
        if (!is_array($data) || (array_is_list($data) && $data !== [])) {
            throw new BadCallback("'data' must be an object");
        }
        $command = $body['command'] ?? null;
        if (!is_string($command) || !array_key_exists($command, self::DEFAULT_CHECKS)) {
            throw new BadCallback('unknown command ' . json_encode($command));
        }
        $dialect = $this->dialect;
        if ($dialect === 'auto') {
            $v4 = array_key_exists('trans_guid', $data) || array_key_exists('cancel_trans_guid', $data)
                || !array_key_exists('trans_id', $data);
            $dialect = $v4 ? 'v4' : 'legacy';
        }
        $ownId = $targetId = $amount = null;
        try {
            if ($command === 'bet' || $command === 'win') {
                $ownId = self::transactionId($data, $dialect);
                $amount = Money::toUnits($data['amount'] ?? null);
            } elseif ($command === 'cancel' && $dialect === 'v4') {
                $ownId = self::transactionId($data, $dialect);
                $targetId = self::transactionId($data, $dialect, 'cancel_trans_guid');
            } elseif ($command === 'cancel' || $command === 'status') {
                $targetId = self::transactionId($data, $dialect); // a legacy cancel names only its target
            }
        } catch (BadAmount $error) {
            throw new BadCallback($error->getMessage());
        }
        // The request's check string sets the order (6.6); the command's own checks are appended
        // when missing, so a short or absent string can never make the wallet pay twice.
        $defaults = ($command === 'cancel' && $dialect === 'legacy') ? self::LEGACY_CANCEL_CHECKS : self::DEFAULT_CHECKS[$command];
        preg_match_all('/\d+/', is_scalar($body['check'] ?? null) ? (string) $body['check'] : '', $found);
        $listed = array_map('intval', $found[0]);
        $checks = array_merge($listed, array_values(array_diff($defaults, $listed)));
        $account = isset($data['account']) && is_scalar($data['account']) ? (string) $data['account'] : null;
        return compact('command', 'dialect', 'account', 'ownId', 'targetId', 'amount', 'checks');
    }

    private static function transactionId(array $data, string $dialect, string $name = 'trans_guid'): string|int
    {
        if ($dialect === 'legacy') {
            $value = $data['trans_id'] ?? null;
            if (is_string($value) && ctype_digit($value) && strlen($value) < 19) {
                $value = (int) $value;
            }
            if (!is_int($value)) {
                throw new BadCallback('trans_id must be an integer');
            }
            return $value;
        }
        $value = $data[$name] ?? null;
        if (!is_string($value) || $value === '') {
            throw new BadCallback("$name must be a non-empty string");
        }
        return $value;
    }

    /** v4 ids are strings, legacy ones integers: keyed apart so "5" and 5 never meet. */
    private static function key(string|int $id): string
    {
        return (is_string($id) ? 'guid:' : 'id:') . $id;
    }

    /** The transaction a callback points at, if this account has it (a cancel cannot be cancelled). */
    private function target(array $cb): ?array
    {
        if ($cb['targetId'] === null) {
            return null;
        }
        $found = $this->state['transactions'][self::key($cb['targetId'])] ?? null;
        if ($found === null || $found['account'] !== $cb['account'] || ($cb['command'] === 'cancel' && $found['command'] === 'cancel')) {
            return null;
        }
        return $found;
    }

    /** The first check of the callback's list that fails, or 0 (spec 6.6); unknown codes are skipped. */
    private function failedCheck(array $cb): int
    {
        $account = $cb['account'] === null ? null : ($this->state['accounts'][$cb['account']] ?? null);
        foreach ($cb['checks'] as $code) {
            $ok = match ($code) {
                21 => $account !== null,
                22 => $account !== null && !$account['blocked'],
                31 => $account !== null && ($cb['amount'] === null || $account['balance'] >= $cb['amount']),
                41 => $cb['ownId'] === null || !isset($this->state['transactions'][self::key($cb['ownId'])]),
                42, 43 => $this->target($cb) !== null,
                default => true,
            };
            if (!$ok) {
                return $code;
            }
        }
        return 0;
    }

    /** Carry out a callback whose checks passed; the reply's `data` (spec 6.7, 6.10). */
    private function apply(array $cb): array
    {
        $account = &$this->state['accounts'][$cb['account']];
        switch ($cb['command']) {
            case 'authenticate':
                return ['account' => $cb['account'], 'balance' => Money::fromUnits($account['balance'])];
            case 'balance':
                return ['balance' => Money::fromUnits($account['balance'])];
            case 'status':
                $found = $this->target($cb);
                return $cb['dialect'] === 'legacy'
                    ? ['trans_id' => $found['id'], 'trans_status' => $found['status']]
                    : ['account' => $cb['account'], 'trans_guid' => $found['id'], 'trans_status' => $found['status']];
        }
        $amount = $cb['amount'];
        if ($cb['command'] === 'bet') {
            $account['balance'] -= $amount;
        } elseif ($cb['command'] === 'win') {
            $account['balance'] += $amount; // a win of 0 (a lost round) is still stored below
        } else { // cancel: reverse what the target really moved; a second cancel of it moves nothing
            $found = &$this->state['transactions'][self::key($cb['targetId'])];
            $amount = $found['amount'];
            if ($found['status'] !== 'CANCELED') {
                $account['balance'] += $found['command'] === 'bet' ? $amount : -$amount; // a win is clawed back
                $found['status'] = 'CANCELED';
            }
            unset($found);
        }
        if ($cb['ownId'] !== null) {
            $this->state['transactions'][self::key($cb['ownId'])] = [
                'id' => $cb['ownId'],
                'command' => $cb['command'],
                'account' => $cb['account'],
                'amount' => $amount,
                'status' => 'OK',
                'cancels' => $cb['targetId'],
            ];
        }
        return ['balance' => Money::fromUnits($account['balance'])];
    }
}

/** The wallet's state in a JSON file, locked from reading to writing (one callback at a time). */
final class FileLedger
{
    public function __construct(private string $path, private array $accounts = Wallet::DEFAULT_ACCOUNTS)
    {
    }

    /** Runs $work on the state under an exclusive lock and saves what it changed; its result. */
    public function transaction(callable $work): mixed
    {
        $handle = fopen($this->path, 'c+');
        if ($handle === false || !flock($handle, LOCK_EX)) {
            throw new \RuntimeException("cannot lock the wallet state {$this->path}");
        }
        try {
            $text = stream_get_contents($handle);
            $state = $text === '' || $text === false ? $this->fresh() : json_decode($text, true, 512, JSON_THROW_ON_ERROR);
            $result = $work($state);
            ftruncate($handle, 0);
            rewind($handle);
            fwrite($handle, json_encode($state, JSON_THROW_ON_ERROR | JSON_FORCE_OBJECT));
            fflush($handle);
            return $result;
        } finally {
            flock($handle, LOCK_UN);
            fclose($handle);
        }
    }

    private function fresh(): array
    {
        $accounts = [];
        foreach ($this->accounts as $name => $balance) {
            $accounts[$name] = ['balance' => Money::toUnits($balance, 'balance'), 'blocked' => false];
        }
        return ['accounts' => $accounts, 'transactions' => []];
    }
}
