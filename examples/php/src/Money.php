<?php
// Money as integer ten-thousandths: amounts carry at most 4 decimals (spec 5.6), and PHP floats are
// binary (0.1 + 0.2 != 0.3), so balances never add floats.  PHP ints are 64-bit: the largest amount
// the platform sends, 99999999999.9999, is 999999999999999 units.

declare(strict_types=1);

namespace ScorpioExample;

final class BadAmount extends \InvalidArgumentException
{
}

final class Money
{
    public const SCALE = 10000;

    /** A JSON number or numeric string (the platform may send either, spec 6.7) as integer units. */
    public static function toUnits(mixed $value, string $name = 'amount'): int
    {
        if (is_int($value)) {
            $text = (string) $value;
        } elseif (is_float($value)) {
            $text = json_encode($value); // the shortest form that reads back as this double: "0.9"
        } elseif (is_string($value)) {
            $text = trim($value);
        } else {
            throw new BadAmount("$name must be a number");
        }
        if (!preg_match('/^(\d{1,15})(?:\.(\d{1,4}))?$/', (string) $text, $parts)) {
            throw new BadAmount("$name must be a number >= 0 with at most 4 decimals");
        }
        return (int) $parts[1] * self::SCALE + (int) str_pad($parts[2] ?? '', 4, '0');
    }

    /** Units as a JSON number: an int when whole (100000, not 100000.0 or "100000"). */
    public static function fromUnits(int $units): int|float
    {
        if ($units % self::SCALE === 0) {
            return intdiv($units, self::SCALE);
        }
        $sign = $units < 0 ? '-' : '';
        $size = abs($units);
        $fraction = rtrim(str_pad((string) ($size % self::SCALE), 4, '0', STR_PAD_LEFT), '0');
        return (float) ($sign . intdiv($size, self::SCALE) . '.' . $fraction);
    }
}
