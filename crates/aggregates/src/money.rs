//! Revenue in exact integer cents: a purchase's `price` × `quantity`, computed from the
//! numbers' decimal text, never through a float (`0.1 + 0.2` is not `0.3` in binary, and a
//! day of float sums drifts by cents).
//!
//! A line is rounded to the cent once, half away from zero (`19.995` → 2,000 cents); the
//! generator's prices have two decimals, so its lines are exact.

/// The most significant digits a price may have: beyond this it is not a price.
const MAX_DIGITS: usize = 30;

/// The line's value in cents, `price × quantity` rounded to the cent; `None` when the price
/// is not a decimal number (or negative, or absurdly large) or the quantity is not a whole
/// number from 0 up. A missing quantity is 1.
pub fn line_cents(price: &str, quantity: Option<&str>) -> Option<i64> {
    let (mantissa, exponent) = decimal(price)?;
    if mantissa < 0 {
        return None;
    }
    let quantity = match quantity {
        None => 1,
        Some(text) => whole(text)?,
    };
    // cents = mantissa × quantity × 10^(exponent + 2), rounded half away from zero.
    let value = mantissa.checked_mul(i128::from(quantity))?;
    let shift = exponent + 2;
    let cents = if shift >= 0 {
        value.checked_mul(10i128.checked_pow(u32::try_from(shift).ok()?)?)?
    } else {
        let divisor = 10i128.checked_pow(u32::try_from(-shift).ok()?);
        match divisor {
            // More than 38 decimals below the cent: the line rounds to 0.
            None => 0,
            Some(divisor) => (value + divisor / 2) / divisor,
        }
    };
    i64::try_from(cents).ok()
}

/// A whole number from its decimal text (`2`, `2.0`, `2e0`); `None` for a fraction, a
/// negative number or anything above `u32`.
fn whole(text: &str) -> Option<u32> {
    let (mantissa, exponent) = decimal(text)?;
    if mantissa < 0 {
        return None;
    }
    let value = if exponent >= 0 {
        mantissa.checked_mul(10i128.checked_pow(u32::try_from(exponent).ok()?)?)?
    } else {
        let divisor = 10i128.checked_pow(u32::try_from(-exponent).ok()?)?;
        if mantissa % divisor != 0 {
            return None;
        }
        mantissa / divisor
    };
    u32::try_from(value).ok()
}

/// A JSON number's text as `mantissa × 10^exponent`, exactly; `None` when it is not a JSON
/// number or has more than [`MAX_DIGITS`] significant digits.
fn decimal(text: &str) -> Option<(i128, i32)> {
    let text = text.trim();
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (number, exponent) = match rest.find(['e', 'E']) {
        Some(at) => {
            let exponent = rest[at + 1..].strip_prefix('+').unwrap_or(&rest[at + 1..]);
            let valid = exponent.strip_prefix('-').unwrap_or(exponent);
            if valid.is_empty() || !valid.bytes().all(|b| b.is_ascii_digit()) || valid.len() > 6 {
                return None;
            }
            (&rest[..at], exponent.parse::<i32>().ok()?)
        }
        None => (rest, 0),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() || number.ends_with('.') {
        return None;
    }
    let digits = || whole.bytes().chain(fraction.bytes());
    if !digits().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let significant = digits().skip_while(|&b| b == b'0').count();
    if significant > MAX_DIGITS {
        return None;
    }
    let mantissa = digits().fold(0i128, |m, b| m * 10 + i128::from(b - b'0'));
    let exponent = exponent.checked_sub(i32::try_from(fraction.len()).ok()?)?;
    Some((if negative { -mantissa } else { mantissa }, exponent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_times_quantities_are_exact_cents() {
        assert_eq!(line_cents("19.99", Some("3")), Some(5_997));
        assert_eq!(line_cents("0.1", Some("3")), Some(30));
        assert_eq!(line_cents("1299", None), Some(129_900));
        assert_eq!(line_cents("1.5E+1", Some("2")), Some(3_000));
        assert_eq!(line_cents("0", Some("0")), Some(0));
        assert_eq!(
            line_cents("12345678901234567.89", Some("1")),
            Some(1_234_567_890_123_456_789)
        );
    }

    #[test]
    fn a_line_is_rounded_to_the_cent_once_half_away_from_zero() {
        assert_eq!(line_cents("19.995", Some("1")), Some(2_000));
        assert_eq!(line_cents("0.333", Some("3")), Some(100));
        assert_eq!(line_cents("0.004", Some("1")), Some(0));
        assert_eq!(line_cents("1e-50", Some("1")), Some(0));
    }

    #[test]
    fn what_is_not_a_price_or_a_quantity_gives_none() {
        for price in [
            "", "abc", "-1", "1.", ".5", "1e", "1e+", "--1", "1.2.3", "NaN", "1e999999",
        ] {
            assert_eq!(line_cents(price, Some("1")), None, "{price:?}");
        }
        for quantity in ["1.5", "-2", "x", "99999999999"] {
            assert_eq!(line_cents("1", Some(quantity)), None, "{quantity:?}");
        }
        assert_eq!(line_cents("1", Some("2.0")), Some(200));
        assert_eq!(line_cents("1e30", Some("1")), None, "beyond i64 cents");
    }
}
