//! Numbers written as Java writes them (`Double.toString`), which is how Spark prints doubles
//! in JSON and CSV text: `1.0`, `0.001`, `1.0E7`, `1.5E-5`, `NaN`, `Infinity`; and decimals as
//! `BigDecimal.toPlainString` writes them (`1.50`).

/// `value` as Java's `Double.toString` writes it: plain between 10⁻³ and 10⁷, otherwise
/// scientific with an upper-case `E`; always with a fraction.
pub fn double_text(value: f64) -> String {
    if value.is_nan() {
        return "NaN".into();
    }
    if value.is_infinite() {
        return if value > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if value == 0.0 {
        return if value.is_sign_negative() {
            "-0.0"
        } else {
            "0.0"
        }
        .into();
    }
    let magnitude = value.abs();
    if (1e-3..1e7).contains(&magnitude) {
        with_fraction(format!("{value}"))
    } else {
        scientific(format!("{value:e}"))
    }
}

/// `value` as Java's `Float.toString` writes it.
pub fn float_text(value: f32) -> String {
    if value.is_nan() || value.is_infinite() || value == 0.0 {
        return double_text(f64::from(value));
    }
    let magnitude = value.abs();
    if (1e-3..1e7).contains(&magnitude) {
        with_fraction(format!("{value}"))
    } else {
        scientific(format!("{value:e}"))
    }
}

fn with_fraction(text: String) -> String {
    if text.contains('.') {
        text
    } else {
        text + ".0"
    }
}

/// Rust's `1.5e-5` as Java's `1.5E-5`, and `1e10` as `1.0E10`.
fn scientific(text: String) -> String {
    match text.split_once('e') {
        Some((mantissa, exponent)) => format!("{}E{exponent}", with_fraction(mantissa.into())),
        None => text,
    }
}

/// An unscaled integer and scale as plain decimal text (`150, 2` is `1.50`).
pub fn decimal_text(unscaled: i128, scale: u8) -> String {
    let digits = unscaled.unsigned_abs().to_string();
    let sign = if unscaled < 0 { "-" } else { "" };
    let scale = usize::from(scale);
    if scale == 0 {
        return format!("{sign}{digits}");
    }
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (whole, fraction) = padded.split_at(padded.len() - scale);
    format!("{sign}{whole}.{fraction}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_read_as_java_writes_them() {
        for (value, text) in [
            (1.0, "1.0"),
            (0.001, "0.001"),
            (1234567.5, "1234567.5"),
            (1e7, "1.0E7"),
            (1.5e-5, "1.5E-5"),
            (-2.5e300, "-2.5E300"),
            (0.1 + 0.2, "0.30000000000000004"),
            (-0.0, "-0.0"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ] {
            assert_eq!(double_text(value), text);
        }
        assert_eq!(float_text(0.1), "0.1");
        assert_eq!(float_text(3e10), "3.0E10");
    }

    #[test]
    fn decimals_print_with_their_scale() {
        assert_eq!(decimal_text(150, 2), "1.50");
        assert_eq!(decimal_text(-5, 3), "-0.005");
        assert_eq!(decimal_text(42, 0), "42");
    }
}
