//! Sizes and durations as people write them in a policy: `64M`, `1G`, `500ms`, `2s`.
//!
//! Both parse from strings (and sizes also from plain TOML integers, meaning bytes) and print back in a
//! canonical form that parses to the same value, so a policy round-trips through TOML.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A number of bytes. Suffixes are binary: `K` = 1024, `M` = 1024², `G` = 1024³, `T` = 1024⁴, optionally
/// followed by `i`, `B` or `iB` (`64M`, `64MiB` and `64MB` all mean 64 × 1024² bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Size(pub u64);

/// A length of time: an integer or decimal number followed by `us`, `ms`, `s` or `m` (`500ms`, `1.5s`, `2m`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dur(pub Duration);

/// Why a size or duration did not parse. The message quotes the input, as the user wrote it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    #[error("{0:?} is not a size (use e.g. \"64M\", \"1G\" or a number of bytes)")]
    NotASize(String),
    #[error("{0:?} is not a duration (use e.g. \"500ms\", \"2s\" or \"1m\")")]
    NotADuration(String),
}

const UNITS: [(&str, u64); 5] = [
    ("T", 1 << 40),
    ("G", 1 << 30),
    ("M", 1 << 20),
    ("K", 1 << 10),
    ("", 1),
];

impl FromStr for Size {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || UnitError::NotASize(s.to_string());
        let t = s.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (num, suffix) = t.split_at(split);
        if num.is_empty() {
            return Err(err());
        }
        let suffix = suffix.trim();
        let unit = suffix
            .strip_suffix("iB")
            .or_else(|| suffix.strip_suffix('B'))
            .unwrap_or(suffix);
        let unit = unit.strip_suffix('i').unwrap_or(unit);
        let mult = match unit.to_ascii_uppercase().as_str() {
            "" => 1u64,
            "K" => 1 << 10,
            "M" => 1 << 20,
            "G" => 1 << 30,
            "T" => 1 << 40,
            _ => return Err(err()),
        };
        if let Ok(n) = num.parse::<u64>() {
            return n.checked_mul(mult).map(Size).ok_or_else(err);
        }
        let f: f64 = num.parse().map_err(|_| err())?;
        let bytes = f * mult as f64;
        if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 || bytes.fract() != 0.0 {
            return Err(err());
        }
        Ok(Size(bytes as u64))
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, mult) in UNITS {
            if mult > 1 && self.0 != 0 && self.0.is_multiple_of(mult) {
                return write!(f, "{}{}", self.0 / mult, name);
            }
        }
        write!(f, "{}", self.0)
    }
}

impl FromStr for Dur {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || UnitError::NotADuration(s.to_string());
        let t = s.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(err)?;
        let (num, unit) = t.split_at(split);
        let nanos_per: u64 = match unit.trim() {
            "us" | "µs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" | "min" => 60_000_000_000,
            _ => return Err(err()),
        };
        if num.is_empty() {
            return Err(err());
        }
        if let Ok(n) = num.parse::<u64>() {
            return n
                .checked_mul(nanos_per)
                .map(|ns| Dur(Duration::from_nanos(ns)))
                .ok_or_else(err);
        }
        let f: f64 = num.parse().map_err(|_| err())?;
        let ns = f * nanos_per as f64;
        if !ns.is_finite() || !(0.0..=u64::MAX as f64).contains(&ns) {
            return Err(err());
        }
        Ok(Dur(Duration::from_nanos(ns.round() as u64)))
    }
}

impl fmt::Display for Dur {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0.as_nanos();
        if ns != 0 && ns.is_multiple_of(1_000_000_000) {
            write!(f, "{}s", ns / 1_000_000_000)
        } else if ns.is_multiple_of(1_000_000) {
            write!(f, "{}ms", ns / 1_000_000)
        } else {
            write!(f, "{}us", ns.div_ceil(1_000))
        }
    }
}

impl Serialize for Size {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Size {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Size;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size such as \"64M\" or a number of bytes")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Size, E> {
                Ok(Size(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Size, E> {
                u64::try_from(v)
                    .map(Size)
                    .map_err(|_| E::custom(UnitError::NotASize(v.to_string())))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Size, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Dur;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration such as \"500ms\" or \"2s\"")
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Dur, E> {
                Err(E::custom(UnitError::NotADuration(v.to_string())))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Dur, E> {
                Err(E::custom(UnitError::NotADuration(v.to_string())))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Dur, E> {
                Err(E::custom(UnitError::NotADuration(v.to_string())))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Dur, E> {
                v.parse().map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_binary_suffixes() {
        assert_eq!("64M".parse::<Size>().unwrap(), Size(64 << 20));
        assert_eq!("64MiB".parse::<Size>().unwrap(), Size(64 << 20));
        assert_eq!("1G".parse::<Size>().unwrap(), Size(1 << 30));
        assert_eq!("1.5K".parse::<Size>().unwrap(), Size(1536));
        assert_eq!("4096".parse::<Size>().unwrap(), Size(4096));
        for bad in ["12XB", "", "M", "-1M", "1.3", "99999999999999T", "1e9"] {
            assert!(bad.parse::<Size>().is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn durations_parse_and_print_canonically() {
        assert_eq!(
            "500ms".parse::<Dur>().unwrap(),
            Dur(Duration::from_millis(500))
        );
        assert_eq!("2s".parse::<Dur>().unwrap(), Dur(Duration::from_secs(2)));
        assert_eq!(
            "1.5s".parse::<Dur>().unwrap(),
            Dur(Duration::from_millis(1500))
        );
        assert_eq!("1m".parse::<Dur>().unwrap(), Dur(Duration::from_secs(60)));
        for bad in ["5", "ms", "2 hours", "-1s", ""] {
            assert!(bad.parse::<Dur>().is_err(), "{bad} parsed");
        }
        for d in ["500ms", "2s", "1500ms", "250us"] {
            assert_eq!(d.parse::<Dur>().unwrap().to_string(), d);
        }
        assert_eq!(Size(3 << 20).to_string(), "3M");
        assert_eq!(Size(1000).to_string(), "1000");
    }
}
