//! Time zone names as Spark (Java's `ZoneId`) reads them: region IDs (`America/Los_Angeles`),
//! offsets (`+01:00`, `-8`, `UTC+1`, `GMT-08:00`) and Java's three-letter short IDs (`PST`,
//! `JST`, `CET`), which Spark accepts where the IANA database alone does not.

use arrow::array::timezone::Tz;

/// Java's `ZoneId.SHORT_IDS`: the three-letter names Spark maps to regions or offsets.
const SHORT_IDS: &[(&str, &str)] = &[
    ("ACT", "Australia/Darwin"),
    ("AET", "Australia/Sydney"),
    ("AGT", "America/Argentina/Buenos_Aires"),
    ("ART", "Africa/Cairo"),
    ("AST", "America/Anchorage"),
    ("BET", "America/Sao_Paulo"),
    ("BST", "Asia/Dhaka"),
    ("CAT", "Africa/Harare"),
    ("CNT", "America/St_Johns"),
    ("CST", "America/Chicago"),
    ("CTT", "Asia/Shanghai"),
    ("EAT", "Africa/Addis_Ababa"),
    ("ECT", "Europe/Paris"),
    ("IET", "America/Indiana/Indianapolis"),
    ("IST", "Asia/Kolkata"),
    ("JST", "Asia/Tokyo"),
    ("MIT", "Pacific/Apia"),
    ("NET", "Asia/Yerevan"),
    ("NST", "Pacific/Auckland"),
    ("PLT", "Asia/Karachi"),
    ("PNT", "America/Phoenix"),
    ("PRT", "America/Puerto_Rico"),
    ("PST", "America/Los_Angeles"),
    ("SST", "Pacific/Guadalcanal"),
    ("VST", "Asia/Ho_Chi_Minh"),
    ("EST", "-05:00"),
    ("MST", "-07:00"),
    ("HST", "-10:00"),
];

/// The session's time zone as a timestamp type's label (`UTC` when none is set): functions
/// that make `TIMESTAMP` values label them so, as the session's other timestamps are.
pub fn session_label(config: &datafusion::common::config::ConfigOptions) -> std::sync::Arc<str> {
    config
        .execution
        .time_zone
        .as_deref()
        .unwrap_or("UTC")
        .into()
}

/// The zone `name` stands for, or `None` when Spark would not read it either.
pub fn spark_zone(name: &str) -> Option<Tz> {
    let name = name.trim();
    if let Some((_, region)) = SHORT_IDS.iter().find(|(short, _)| *short == name) {
        return region.parse().ok();
    }
    if name.eq_ignore_ascii_case("Z") || name.eq_ignore_ascii_case("UTC") {
        return "+00:00".parse().ok();
    }
    if let Ok(zone) = name.parse::<Tz>() {
        return Some(zone);
    }
    let offset = ["UTC", "GMT", "UT"]
        .iter()
        .find_map(|prefix| name.strip_prefix(prefix))
        .unwrap_or(name);
    normalized_offset(offset)?.parse().ok()
}

/// `+1`, `-08`, `+0130`, `+01:30` as `±hh:mm`.
fn normalized_offset(text: &str) -> Option<String> {
    let sign = text.chars().next().filter(|c| *c == '+' || *c == '-')?;
    let digits: String = text[1..].chars().filter(|c| *c != ':').collect();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (hours, minutes) = match digits.len() {
        1 | 2 => (digits.as_str(), "00"),
        3 => (&digits[..1], &digits[1..]),
        4 => (&digits[..2], &digits[2..]),
        _ => return None,
    };
    let (hours, minutes): (u32, u32) = (hours.parse().ok()?, minutes.parse().ok()?);
    (hours <= 18 && minutes < 60).then(|| format!("{sign}{hours:02}:{minutes:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn offset_hours(name: &str) -> i32 {
        let zone = spark_zone(name).unwrap_or_else(|| panic!("{name} is a zone"));
        let winter = Utc.with_ymd_and_hms(2020, 1, 15, 12, 0, 0).unwrap();
        let local = winter.with_timezone(&zone);
        use chrono::Offset;
        local.offset().fix().local_minus_utc() / 3600
    }

    #[test]
    fn zones_read_as_java_reads_them() {
        assert_eq!(offset_hours("PST"), -8);
        assert_eq!(offset_hours("JST"), 9);
        assert_eq!(offset_hours("CET"), 1);
        assert_eq!(offset_hours("America/New_York"), -5);
        assert_eq!(offset_hours("+02:00"), 2);
        assert_eq!(offset_hours("UTC+3"), 3);
        assert_eq!(offset_hours("GMT-0800"), -8);
        assert_eq!(offset_hours("EST"), -5);
        assert_eq!(offset_hours("Z"), 0);
        assert!(spark_zone("Mars/Olympus").is_none());
        assert!(spark_zone("+25:00").is_none());
    }
}
