//! Durations written the way people write them in config: `30s`, `2m`, `1h`, `7d`.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, de};

/// A duration parsed from `<number><unit>`, unit one of `ms`, `s`, `m`, `h`, `d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    pub const fn secs(secs: u64) -> Self {
        Self(Duration::from_secs(secs))
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let value: u64 = number.parse().map_err(|_| {
            format!("invalid duration {text:?}: expected a number and a unit, like \"30s\" or \"2m\"")
        })?;
        let millis = match unit {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => {
                return Err(format!("invalid duration {text:?}: unit must be one of ms, s, m, h, d"));
            }
        };
        value
            .checked_mul(millis)
            .map(|ms| Self(Duration::from_millis(ms)))
            .ok_or_else(|| format!("invalid duration {text:?}: too large"))
    }
}

/// A span of time as an operator reads it on screen: "45s", "4m12s", "2h10m", "3d4h", a zero
/// last part left off ("4m", "2h", "29d"). Negative spans read as "0s".
pub fn duration_words(seconds: i64) -> String {
    let s = seconds.max(0);
    let (big, small, units) = match s {
        s if s < 60 => return format!("{s}s"),
        s if s < 3600 => (s / 60, s % 60, ("m", "s")),
        s if s < 48 * 3600 => (s / 3600, (s % 3600) / 60, ("h", "m")),
        s => (s / 86_400, (s % 86_400) / 3600, ("d", "h")),
    };
    if small == 0 { format!("{big}{}", units.0) } else { format!("{big}{}{small:02}{}", units.0, units.1) }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        let (value, unit) = [(86_400_000, "d"), (3_600_000, "h"), (60_000, "m"), (1_000, "s")]
            .into_iter()
            .find(|(size, _)| ms >= *size && ms.is_multiple_of(*size))
            .map_or((ms, "ms"), |(size, unit)| (ms / size, unit));
        write!(f, "{value}{unit}")
    }
}

/// No setting in the config means anything at a year or more: an interval, a timeout, a
/// window or a checklist's age that long is a typo.
const LONGEST: Duration = Duration::from_secs(365 * 86_400);

impl HumanDuration {
    /// A duration as config may hold it: more than zero — every one of them is an interval,
    /// a deadline or an age, and zero would spin a loop or never wait — and under a year.
    pub fn parse_setting(text: &str) -> Result<Self, String> {
        let parsed = Self::parse(text)?;
        if parsed.0.is_zero() {
            return Err(format!("duration {:?} must be more than zero", text.trim()));
        }
        if parsed.0 >= LONGEST {
            return Err(format!("duration {:?} is longer than any setting means: at most 364d", text.trim()));
        }
        Ok(parsed)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse_setting(&text).map_err(de::Error::custom)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn spans_read_as_an_operator_reads_them() {
        let cases = [
            (-5, "0s"),
            (45, "45s"),
            (240, "4m"),
            (252, "4m12s"),
            (7800, "2h10m"),
            (7200, "2h"),
            (68 * 3600, "2d20h"),
            (29 * 86_400, "29d"),
        ];
        for (seconds, words) in cases {
            assert_eq!(duration_words(seconds), words, "{seconds}s");
        }
    }
    use super::*;

    #[test]
    fn parses_each_unit() {
        assert_eq!(HumanDuration::parse("250ms"), Ok(HumanDuration(Duration::from_millis(250))));
        assert_eq!(HumanDuration::parse("30s"), Ok(HumanDuration::secs(30)));
        assert_eq!(HumanDuration::parse("2m"), Ok(HumanDuration::secs(120)));
        assert_eq!(HumanDuration::parse("1h"), Ok(HumanDuration::secs(3600)));
        assert_eq!(HumanDuration::parse("7d"), Ok(HumanDuration::secs(7 * 86_400)));
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        assert!(HumanDuration::parse("5").unwrap_err().contains("unit"));
        assert!(HumanDuration::parse("m").unwrap_err().contains("number"));
        assert!(HumanDuration::parse("1w").unwrap_err().contains("unit"));
    }

    #[test]
    fn a_setting_is_never_zero_nor_absurd() {
        assert!(HumanDuration::parse_setting("0s").unwrap_err().contains("more than zero"));
        assert!(HumanDuration::parse_setting("0ms").unwrap_err().contains("more than zero"));
        assert!(HumanDuration::parse_setting("400d").unwrap_err().contains("at most"));
        assert_eq!(HumanDuration::parse_setting("15s"), Ok(HumanDuration::secs(15)));
    }

    #[test]
    fn displays_in_the_largest_whole_unit() {
        assert_eq!(HumanDuration::secs(120).to_string(), "2m");
        assert_eq!(HumanDuration::secs(90).to_string(), "90s");
        assert_eq!(HumanDuration(Duration::from_millis(1500)).to_string(), "1500ms");
    }
}
