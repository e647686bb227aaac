//! [`DurationStr`]: a duration key written as `"500ms"`, `"30s"`, `"15m"`,
//! `"1h"`, `"7d"` or plain seconds.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A duration written as `"500ms"`, `"30s"`, `"15m"`, `"1h"`, `"7d"` or plain
/// seconds (`"90"`, or an integer in TOML). Whole milliseconds only.
/// Serialized as a string in the largest exact unit (`604800` s → `"7d"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct DurationStr(pub Duration);

impl DurationStr {
    pub const fn from_secs(secs: u64) -> Self {
        DurationStr(Duration::from_secs(secs))
    }

    pub fn as_duration(&self) -> Duration {
        self.0
    }

    pub fn as_secs(&self) -> u64 {
        self.0.as_secs()
    }
}

impl From<DurationStr> for Duration {
    fn from(d: DurationStr) -> Duration {
        d.0
    }
}

/// Why a duration string did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration {0:?}: expected a number of seconds or a number followed by ms, s, m, h or d (e.g. \"500ms\", \"30s\", \"15m\", \"1h\", \"7d\")"
)]
pub struct DurationParseError(String);

impl FromStr for DurationStr {
    type Err = DurationParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || DurationParseError(s.to_string());
        let t = s.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (digits, unit) = t.split_at(split);
        if digits.is_empty() {
            return Err(err());
        }
        let n: u64 = digits.parse().map_err(|_| err())?;
        let millis: u64 = match unit.trim() {
            "ms" => 1,
            "" | "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(err()),
        };
        n.checked_mul(millis)
            .map(|ms| DurationStr(Duration::from_millis(ms)))
            .ok_or_else(err)
    }
}

impl fmt::Display for DurationStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.subsec_millis() != 0 {
            return write!(f, "{}ms", self.0.as_millis());
        }
        let secs = self.0.as_secs();
        for (factor, unit) in [(86_400, "d"), (3_600, "h"), (60, "m")] {
            if secs != 0 && secs.is_multiple_of(factor) {
                return write!(f, "{}{unit}", secs / factor);
            }
        }
        write!(f, "{secs}s")
    }
}

impl Serialize for DurationStr {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DurationStr {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = DurationStr;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as \"30s\", \"15m\", \"1h\", \"7d\" or seconds")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DurationStr, E> {
                v.parse().map_err(E::custom)
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<DurationStr, E> {
                Ok(DurationStr::from_secs(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<DurationStr, E> {
                u64::try_from(v)
                    .map(DurationStr::from_secs)
                    .map_err(|_| E::custom("a duration cannot be negative"))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_print() {
        for (s, secs) in [
            ("30s", 30),
            ("15m", 900),
            ("1h", 3600),
            ("7d", 604_800),
            ("90", 90),
            (" 2h ", 7200),
            ("0", 0),
        ] {
            assert_eq!(
                s.parse::<DurationStr>(),
                Ok(DurationStr::from_secs(secs)),
                "{s}"
            );
        }
        for bad in [
            "",
            "h",
            "1x",
            "-5s",
            "1.5h",
            "1h30m",
            "99999999999999999999d",
        ] {
            assert!(bad.parse::<DurationStr>().is_err(), "{bad}");
        }
        assert_eq!(DurationStr::from_secs(604_800).to_string(), "7d");
        assert_eq!(DurationStr::from_secs(5400).to_string(), "90m");
        assert_eq!(DurationStr::from_secs(61).to_string(), "61s");
        assert_eq!(DurationStr::from_secs(0).to_string(), "0s");

        let ms = |s: &str| s.parse::<DurationStr>().map(|d| d.as_duration());
        assert_eq!(ms("1500ms"), Ok(Duration::from_millis(1500)));
        assert_eq!(ms("0ms"), Ok(Duration::ZERO));
        assert_eq!(
            "1500ms".parse::<DurationStr>().map(|d| d.to_string()),
            Ok("1500ms".to_owned())
        );
        assert_eq!(
            "3000ms".parse::<DurationStr>().map(|d| d.to_string()),
            Ok("3s".to_owned())
        );
        assert!(
            "5 ms".parse::<DurationStr>().is_ok(),
            "spaces around the unit are allowed"
        );
        assert!("5mss".parse::<DurationStr>().is_err());

        #[derive(Deserialize)]
        struct T {
            d: DurationStr,
        }
        let t: T = toml::from_str("d = 120").expect("integer seconds");
        assert_eq!(t.d.as_secs(), 120);
        let t: T = toml::from_str("d = \"2m\"").expect("string");
        assert_eq!(t.d.as_secs(), 120);
        assert!(toml::from_str::<T>("d = -1").is_err());
    }
}
