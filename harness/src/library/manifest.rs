//! `attack.toml`: the raw shape (serde, unknown fields are errors) and its validation into an [`Attack`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use gauntlet_sandbox::{Limit, Status, Weaken};
use serde::{Deserialize, Serialize};

use super::error::{LibraryError, LibraryErrorKind};
use super::policy;
use crate::oracles::channel::{closed_from_name, ChannelExpect};
use crate::oracles::OracleKind;

/// Categories of the process backend, plus `wasm`.
pub const CATEGORIES: &[&str] = &[
    "resource",
    "syscall",
    "filesystem",
    "network",
    "signal",
    "info",
    "channel",
    "wasm",
];

/// Placeholders an attack may use in `args`, `host_paths` and `[policy]` strings.
pub const PLACEHOLDERS: &[&str] = &[
    "nonce",
    "scratch",
    "canary_file",
    "canary_dir",
    "host_dir",
    "tcp_port",
    "tcp6_port",
    "udp_port",
    "dns_port",
    "unix_path",
    "abstract_name",
    "allowed_port",
    "supervisor_pid",
    "runner_pid",
    "canary_fd",
];

/// Layer names of the process backend (as in `Outcome.layers` and `gauntlet doctor`).
pub use gauntlet_sandbox::process::LAYERS as PROCESS_LAYERS;

/// Which sandbox runs a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Process,
    Wasm,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Process => "process",
            Backend::Wasm => "wasm",
        }
    }
    pub fn from_name(s: &str) -> Option<Backend> {
        match s {
            "process" => Some(Backend::Process),
            "wasm" => Some(Backend::Wasm),
            _ => None,
        }
    }
}

/// A verdict word, as written in `[expect]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VerdictWord {
    Contained,
    Escaped,
    Error,
    Skipped,
}

impl VerdictWord {
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictWord::Contained => "contained",
            VerdictWord::Escaped => "escaped",
            VerdictWord::Error => "error",
            VerdictWord::Skipped => "skipped",
        }
    }
    pub fn from_name(s: &str) -> Option<VerdictWord> {
        [
            VerdictWord::Contained,
            VerdictWord::Escaped,
            VerdictWord::Error,
            VerdictWord::Skipped,
        ]
        .into_iter()
        .find(|w| w.as_str() == s)
    }
}

/// What the source is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    C,
    Wat,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    id: String,
    category: String,
    title: String,
    technique: String,
    #[serde(default)]
    references: Vec<String>,
    backends: Vec<String>,
    source: String,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    needs: Vec<String>,
    #[serde(default)]
    catches: Vec<String>,
    oracles: Vec<String>,
    #[serde(default)]
    policy: Option<toml::Table>,
    #[serde(default)]
    expect: RawExpect,
    #[serde(default)]
    host_paths: Vec<String>,
    #[serde(default, rename = "static")]
    static_link: bool,
    #[serde(default)]
    channel: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExpect {
    process: Option<String>,
    wasm: Option<String>,
    outcome: Option<RawOutcome>,
    channel: Option<RawChannelExpect>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChannelExpect {
    #[serde(default)]
    min_errors: u64,
    #[serde(default)]
    min_limited: u64,
    closed: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutcome {
    status: Option<String>,
    limit: Option<String>,
    #[serde(default)]
    limits_hit: Vec<String>,
    trap: Option<String>,
}

/// `limit` in `[expect.outcome]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum LimitExpect {
    Any,
    None,
    Is(Limit),
}

/// `[expect.outcome]`, judged by the `resources` oracle.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OutcomeExpect {
    pub status: Option<Status>,
    pub limit: Option<LimitExpect>,
    pub limits_hit: Vec<Limit>,
    pub trap: Option<String>,
}

/// A validated attack.
#[derive(Clone, Debug, Serialize)]
pub struct Attack {
    pub id: String,
    pub category: String,
    pub title: String,
    pub technique: String,
    pub references: Vec<String>,
    pub backends: Vec<Backend>,
    /// The manifest, as shown to users.
    pub manifest: PathBuf,
    /// Absolute path of the one source file.
    pub source: PathBuf,
    pub source_kind: SourceKind,
    pub args: Vec<String>,
    pub needs: Vec<String>,
    pub catches: Vec<String>,
    pub oracles: Vec<OracleKind>,
    /// `[policy]` as written (placeholders not yet substituted).
    pub policy: toml::Table,
    pub expect: BTreeMap<Backend, VerdictWord>,
    pub expect_outcome: Option<OutcomeExpect>,
    pub host_paths: Vec<String>,
    pub static_link: bool,
    /// Run with the process message channel (`gauntlet exec --channel`); judged by `channel` too.
    pub channel: bool,
    /// `[expect.channel]`, judged by the `channel` oracle.
    pub expect_channel: Option<ChannelExpect>,
}

impl Attack {
    /// The expected verdict on `backend` (`contained` unless `[expect]` says otherwise).
    pub fn expected(&self, backend: Backend) -> VerdictWord {
        self.expect
            .get(&backend)
            .copied()
            .unwrap_or(VerdictWord::Contained)
    }
}

/// What parsing got before it failed: enough to label the error case.
#[derive(Clone, Debug, Default)]
pub struct PartialIdentity {
    pub id: Option<String>,
    pub backends: Vec<Backend>,
}

/// A manifest that did not load: the error, and what could be read of its identity.
#[derive(Clone, Debug)]
pub struct ParseFailure {
    pub error: LibraryError,
    pub partial: PartialIdentity,
}

/// Parses and validates one manifest. `shown` labels errors; `dir` is the attack folder; `category_dir`
/// is the name of the folder above it.
pub fn parse(
    text: &str,
    shown: &Path,
    dir: &Path,
    category_dir: &str,
) -> Result<Attack, Box<ParseFailure>> {
    let partial = partial_identity(text);
    let err = |field: &str, kind: LibraryErrorKind| {
        Box::new(ParseFailure {
            error: LibraryError::new(shown, field, kind),
            partial: partial.clone(),
        })
    };
    let de = toml::Deserializer::parse(text)
        .map_err(|e| err("<file>", LibraryErrorKind::Syntax(first_line(e.message()))))?;
    let raw: RawManifest = serde_path_to_error::deserialize(de).map_err(|e| {
        let field = e.path().to_string();
        let field = if field == "." { "<file>".into() } else { field };
        let msg = first_line(e.into_inner().message());
        err(&field, LibraryErrorKind::Invalid(msg))
    })?;
    validate(raw, shown, dir, category_dir)
        .map_err(|error| Box::new(ParseFailure { error, partial }))
}

fn partial_identity(text: &str) -> PartialIdentity {
    let table: toml::Table = toml::from_str(text).unwrap_or_default();
    let id = table.get("id").and_then(|v| v.as_str()).map(str::to_string);
    let backends = table
        .get("backends")
        .and_then(|v| v.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|b| b.as_str().and_then(Backend::from_name))
                .collect()
        })
        .unwrap_or_default();
    PartialIdentity { id, backends }
}

fn validate(
    raw: RawManifest,
    shown: &Path,
    dir: &Path,
    category_dir: &str,
) -> Result<Attack, LibraryError> {
    let bad = |field: &str, msg: String| LibraryError::invalid(shown, field, msg);
    if !valid_id(&raw.id) {
        return Err(bad(
            "id",
            format!(
                "{:?} is not a dotted id (<area>.<group>.<name>, lowercase)",
                raw.id
            ),
        ));
    }
    if !CATEGORIES.contains(&raw.category.as_str()) {
        return Err(bad(
            "category",
            format!(
                "{:?} is not a category ({})",
                raw.category,
                CATEGORIES.join(", ")
            ),
        ));
    }
    if raw.category != category_dir {
        return Err(bad(
            "category",
            format!(
                "{:?} does not match the folder {category_dir:?}",
                raw.category
            ),
        ));
    }
    for (field, v) in [("title", &raw.title), ("technique", &raw.technique)] {
        if v.trim().is_empty() {
            return Err(bad(field, "is empty".into()));
        }
    }
    for (i, r) in raw.references.iter().enumerate() {
        let ok = r.strip_prefix("catalog:").is_some_and(|k| !k.is_empty())
            || r.starts_with("CVE-")
            || r.starts_with("http");
        if !ok {
            return Err(bad(
                &format!("references[{i}]"),
                format!("{r:?} is not catalog:<id>, CVE-<n> or a URL"),
            ));
        }
    }
    let mut backends = Vec::new();
    for (i, b) in raw.backends.iter().enumerate() {
        let backend = Backend::from_name(b).ok_or_else(|| {
            bad(
                &format!("backends[{i}]"),
                format!("{b:?} is not a backend (process, wasm)"),
            )
        })?;
        if !backends.contains(&backend) {
            backends.push(backend);
        }
    }
    if backends.is_empty() {
        return Err(bad("backends", "is empty".into()));
    }
    let (source, source_kind) = check_source(&raw.source, dir, &backends, shown)?;
    for (i, a) in raw.args.iter().enumerate() {
        check_placeholders(a).map_err(|m| bad(&format!("args[{i}]"), m))?;
    }
    for (i, p) in raw.host_paths.iter().enumerate() {
        check_placeholders(p).map_err(|m| bad(&format!("host_paths[{i}]"), m))?;
        if !p.starts_with('/') && !p.starts_with('{') {
            return Err(bad(
                &format!("host_paths[{i}]"),
                format!("{p:?} is not absolute"),
            ));
        }
    }
    for (i, n) in raw.needs.iter().enumerate() {
        let known = if backends.contains(&Backend::Process) {
            PROCESS_LAYERS.contains(&n.as_str())
        } else {
            !n.is_empty()
                && n.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
        };
        if !known {
            return Err(bad(&format!("needs[{i}]"), format!("{n:?} is not a layer")));
        }
    }
    for (i, c) in raw.catches.iter().enumerate() {
        if Weaken::from_name(c).is_none() {
            return Err(bad(
                &format!("catches[{i}]"),
                format!("{c:?} is not a weakening (see gauntlet exec --unsafe-weaken)"),
            ));
        }
    }
    let mut oracles = Vec::new();
    for (i, o) in raw.oracles.iter().enumerate() {
        let k = OracleKind::from_name(o).ok_or_else(|| {
            bad(
                &format!("oracles[{i}]"),
                format!(
                    "{o:?} is not an oracle ({})",
                    OracleKind::names().join(", ")
                ),
            )
        })?;
        if !oracles.contains(&k) {
            oracles.push(k);
        }
    }
    if raw.channel && backends != [Backend::Process] {
        return Err(bad(
            "channel",
            "only the process backend has a message channel (backends must be [\"process\"])"
                .into(),
        ));
    }
    if raw.channel && !oracles.contains(&OracleKind::Channel) {
        oracles.push(OracleKind::Channel);
    }
    if !raw.channel && oracles.contains(&OracleKind::Channel) {
        return Err(bad(
            "oracles",
            "the channel oracle judges only attacks with channel = true".into(),
        ));
    }
    let expect_channel = match raw.expect.channel {
        None => None,
        Some(_) if !raw.channel => {
            return Err(bad(
                "expect.channel",
                "needs channel = true".into(),
            ))
        }
        Some(c) => Some(ChannelExpect {
            min_errors: c.min_errors,
            min_limited: c.min_limited,
            closed: c
                .closed
                .map(|name| {
                    closed_from_name(&name).ok_or_else(|| {
                        bad(
                            "expect.channel.closed",
                            format!("{name:?} is not a close reason (eof, stopped, deadline, oversized_frame, request_cap, send_buffer_full, io)"),
                        )
                    })
                })
                .transpose()?,
        }),
    };
    let policy = raw.policy.unwrap_or_default();
    policy::check(&policy).map_err(|(field, msg)| bad(&format!("policy.{field}"), msg))?;
    let mut expect = BTreeMap::new();
    for (b, v) in [
        (Backend::Process, &raw.expect.process),
        (Backend::Wasm, &raw.expect.wasm),
    ] {
        let Some(v) = v else { continue };
        let field = format!("expect.{}", b.as_str());
        let word = VerdictWord::from_name(v).ok_or_else(|| {
            LibraryError::new(shown, &field, LibraryErrorKind::NotAVerdict(v.clone()))
        })?;
        if !backends.contains(&b) {
            return Err(bad(&field, format!("{} is not in backends", b.as_str())));
        }
        expect.insert(b, word);
    }
    let expect_outcome = raw
        .expect
        .outcome
        .map(|o| outcome_expect(o, shown))
        .transpose()?;
    Ok(Attack {
        id: raw.id,
        category: raw.category,
        title: raw.title,
        technique: raw.technique,
        references: raw.references,
        backends,
        manifest: shown.to_path_buf(),
        source,
        source_kind,
        args: raw.args,
        needs: raw.needs,
        catches: raw.catches,
        oracles,
        policy,
        expect,
        expect_outcome,
        host_paths: raw.host_paths,
        static_link: raw.static_link,
        channel: raw.channel,
        expect_channel,
    })
}

fn check_source(
    name: &str,
    dir: &Path,
    backends: &[Backend],
    shown: &Path,
) -> Result<(PathBuf, SourceKind), LibraryError> {
    let bad = |msg: String| LibraryError::invalid(shown, "source", msg);
    if name.contains('/') || name.starts_with('.') {
        return Err(bad(format!("{name:?} is not a file name in this folder")));
    }
    let kind = match Path::new(name).extension().and_then(|e| e.to_str()) {
        Some("c") => SourceKind::C,
        Some("wat") => SourceKind::Wat,
        _ => return Err(bad(format!("{name:?} is neither a .c nor a .wat file"))),
    };
    let want = match kind {
        SourceKind::C => Backend::Process,
        SourceKind::Wat => Backend::Wasm,
    };
    if backends.iter().any(|b| *b != want) {
        return Err(bad(format!(
            "{name:?} can only run on the {} backend",
            want.as_str()
        )));
    }
    let path = dir.join(name);
    match std::fs::symlink_metadata(&path) {
        Ok(m) if m.is_file() => {}
        _ => return Err(bad(format!("{name:?} does not exist in this folder"))),
    }
    let others = super::discover::sources_in(dir);
    if others.len() > 1 {
        return Err(bad(format!(
            "the folder has {} source files ({}); exactly one is allowed",
            others.len(),
            others.join(", ")
        )));
    }
    Ok((path, kind))
}

fn outcome_expect(o: RawOutcome, shown: &Path) -> Result<OutcomeExpect, LibraryError> {
    let bad = |field: &str, msg: String| LibraryError::invalid(shown, field, msg);
    let status = o
        .status
        .map(|s| {
            serde_json::from_value::<Status>(serde_json::Value::String(s.clone())).map_err(|_| {
                bad(
                    "expect.outcome.status",
                    format!("{s:?} is not a status (exited, killed, rejected, error)"),
                )
            })
        })
        .transpose()?;
    let parse_limit =
        |s: &str| serde_json::from_value::<Limit>(serde_json::Value::String(s.into()));
    let limit = o
        .limit
        .map(|s| match s.as_str() {
            "any" => Ok(LimitExpect::Any),
            "none" => Ok(LimitExpect::None),
            _ => parse_limit(&s).map(LimitExpect::Is).map_err(|_| {
                bad(
                    "expect.outcome.limit",
                    format!("{s:?} is not a limit, \"any\" or \"none\""),
                )
            }),
        })
        .transpose()?;
    let mut limits_hit = Vec::new();
    for (i, s) in o.limits_hit.iter().enumerate() {
        limits_hit.push(parse_limit(s).map_err(|_| {
            bad(
                &format!("expect.outcome.limits_hit[{i}]"),
                format!("{s:?} is not a limit"),
            )
        })?);
    }
    Ok(OutcomeExpect {
        status,
        limit,
        limits_hit,
        trap: o.trap,
    })
}

/// Checks that every `{...}` in `s` is a known placeholder.
pub fn check_placeholders(s: &str) -> Result<(), String> {
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err(format!("{s:?} has an unclosed '{{'"));
        };
        let name = &after[..close];
        if !PLACEHOLDERS.contains(&name) {
            return Err(format!("{{{name}}} is not a placeholder"));
        }
        rest = &after[close + 1..];
    }
    Ok(())
}

fn valid_id(id: &str) -> bool {
    let parts: Vec<&str> = id.split('.').collect();
    parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_' || c == b'-')
        })
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").trim().to_string()
}
