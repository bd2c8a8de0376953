//! The suite's default policy for attacks, and how a manifest's `[policy]` is merged onto it.
//!
//! Merging is by TOML table: tables merge key by key, arrays are appended (so `fs.rw` in a manifest adds
//! to the scratch directory instead of replacing it), any other value replaces the default. Placeholders
//! in string values are substituted per case.

use std::collections::BTreeMap;

use gauntlet_sandbox::Policy;

/// The suite default (attacks/README.md): wall 3 s, CPU 1 s, memory 64M, pids 32, output 64K, no network,
/// scratch read-write, system libraries (and, implicitly, the attack binary) read-only.
pub const SUITE_DEFAULT: &str = r#"
env = {}

[limits]
wall_time = "3s"
cpu_time = "1s"
memory = "64M"
pids = 32
output = "64K"

[net]
mode = "none"

[fs]
rw = ["{scratch}"]
system_libs = true
"#;

pub fn suite_default() -> toml::Table {
    toml::from_str(SUITE_DEFAULT).expect("the suite default policy is valid TOML")
}

/// Merges `over` onto `base`.
pub fn merge(base: &mut toml::Table, over: &toml::Table) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (Some(toml::Value::Array(b)), toml::Value::Array(o)) => b.extend(o.iter().cloned()),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

/// Replaces `{name}` in `s` by `values[name]`; unknown names stay as they are.
pub fn substitute(s: &str, values: &BTreeMap<&'static str, String>) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if values.contains_key(&after[..close]) => {
                out.push_str(&values[&after[..close]]);
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Substitutes placeholders in every string of a TOML value tree.
pub fn substitute_table(t: &toml::Table, values: &BTreeMap<&'static str, String>) -> toml::Table {
    t.iter()
        .map(|(k, v)| (k.clone(), substitute_value(v, values)))
        .collect()
}

fn substitute_value(v: &toml::Value, values: &BTreeMap<&'static str, String>) -> toml::Value {
    match v {
        toml::Value::String(s) => toml::Value::String(substitute(s, values)),
        toml::Value::Array(a) => {
            toml::Value::Array(a.iter().map(|x| substitute_value(x, values)).collect())
        }
        toml::Value::Table(t) => toml::Value::Table(substitute_table(t, values)),
        other => other.clone(),
    }
}

/// The effective policy text of a case: default + `[policy]`, placeholders substituted.
pub fn effective(manifest_policy: &toml::Table, values: &BTreeMap<&'static str, String>) -> String {
    let mut t = suite_default();
    merge(&mut t, manifest_policy);
    toml::to_string(&substitute_table(&t, values)).unwrap_or_default()
}

/// Checks a manifest's `[policy]` by building the effective policy with stand-in values. Errors are
/// `(field, message)`, the field relative to `[policy]`.
pub fn check(manifest_policy: &toml::Table) -> Result<(), (String, String)> {
    let values: BTreeMap<&'static str, String> = super::manifest::PLACEHOLDERS
        .iter()
        .map(|p| {
            // Ports stand in as a number, so that `allow = ["127.0.0.1:{allowed_port}"]` checks.
            let v = if p.ends_with("_port") {
                "9".to_string()
            } else {
                format!("/gauntlet-check/{p}")
            };
            (*p, v)
        })
        .collect();
    let text = effective(manifest_policy, &values);
    Policy::from_toml_str(&text, None)
        .map(|_| ())
        .map_err(|e| (e.field.clone(), e.kind.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays_append_and_tables_merge() {
        let over: toml::Table =
            toml::from_str("limits = { pids = 8 }\nfs = { rw = [\"/x\"] }").unwrap();
        let mut t = suite_default();
        merge(&mut t, &over);
        assert_eq!(t["limits"]["pids"].as_integer(), Some(8));
        assert_eq!(t["limits"]["memory"].as_str(), Some("64M"));
        assert_eq!(t["fs"]["rw"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn substitution_leaves_unknown_braces() {
        let mut v = BTreeMap::new();
        v.insert("nonce", "abc".to_string());
        assert_eq!(substitute("x{nonce}-{other}", &v), "xabc-{other}");
    }

    #[test]
    fn bad_policy_names_the_field() {
        let over: toml::Table = toml::from_str("limits = { memory = \"12XB\" }").unwrap();
        let (field, _) = check(&over).unwrap_err();
        assert_eq!(field, "limits.memory");
    }
}
