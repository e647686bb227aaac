//! The environment layer: which `CONFAB_*` variable sets which key (see
//! the `config` module docs for the naming rules).

use toml::{Table, Value};

use super::error::ConfigError;
use super::keys::{Leaf, Shape, parse_key, set_path};

/// Prefix of every environment variable confab reads.
pub const ENV_PREFIX: &str = "CONFAB_";
/// Environment variable naming the config file.
pub const ENV_CONFIG_FILE: &str = "CONFAB_CONFIG";
/// `CONFAB_*` variables that are not config keys but are used elsewhere.
pub const ENV_NOT_CONFIG: &[&str] = &[ENV_CONFIG_FILE, "CONFAB_USER_PASSWORD"];

/// The process environment's `CONFAB_*` variables, skipping any that are not
/// valid Unicode (unlike `std::env::vars`, which panics on them).
pub fn env_vars() -> Vec<(String, String)> {
    std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .filter(|(k, _)| k.starts_with(ENV_PREFIX))
        .collect()
}

/// Sets the keys that the `CONFAB_*` variables of `env` name in `merged`:
/// short aliases first, full names after (they win). Returns a warning for
/// every variable that names no key.
pub(super) fn apply(
    shape: &Shape,
    env: &[(String, String)],
    merged: &mut Table,
) -> Result<Vec<String>, ConfigError> {
    let mut warnings = Vec::new();
    let mut env_sets = Vec::new();
    for (var, raw) in env {
        if ENV_NOT_CONFIG.contains(&var.as_str()) {
            continue;
        }
        let Some(target) = resolve_env(shape, var) else {
            warnings.push(format!(
                "ignored environment variable {var}: it names no config key"
            ));
            continue;
        };
        let value = parse_key(&target.path, raw, target.default.as_ref()).map_err(|message| {
            ConfigError::Env {
                var: var.clone(),
                key: target.path.join("."),
                message,
            }
        })?;
        env_sets.push((target.full, target.path, value));
    }
    env_sets.sort_by_key(|(full, _, _)| *full);
    for (_, path, value) in env_sets {
        set_path(merged, &path, value);
    }
    Ok(warnings)
}

fn env_name(path: &[String]) -> String {
    format!("{ENV_PREFIX}{}", path.join("_").to_ascii_uppercase())
}

/// Where an environment variable goes.
struct EnvTarget {
    path: Vec<String>,
    /// Default of the key, giving its type; None for optional keys (strings).
    default: Option<Value>,
    /// True when found by its full name (applied after short aliases).
    full: bool,
}

/// Maps `CONFAB_...` to a key path, see the `config` module docs.
fn resolve_env(shape: &Shape, var: &str) -> Option<EnvTarget> {
    let var = var.to_ascii_uppercase();
    let from_leaf = |l: &Leaf, full| EnvTarget {
        path: l.path.clone(),
        default: Some(l.default.clone()),
        full,
    };
    if let Some(l) = shape.leaves.iter().find(|l| env_name(&l.path) == var) {
        return Some(from_leaf(l, true));
    }
    let aliases: Vec<&Leaf> = shape
        .leaves
        .iter()
        .filter(|l| l.path.len() >= 2 && env_name(&l.path[1..]) == var)
        .collect();
    if let [l] = aliases[..] {
        return Some(from_leaf(l, false));
    }
    // Optional keys (None by default, so absent from the defaults): find a
    // table whose name prefixes the variable and accept the rest as a key if
    // the config knows it.
    let candidates = |alias: bool| -> Vec<Vec<String>> {
        let mut found: Vec<Vec<String>> = Vec::new();
        for table in &shape.tables {
            if alias && table.is_empty() {
                continue;
            }
            let name = if alias { &table[1..] } else { &table[..] };
            let prefix = if name.is_empty() {
                ENV_PREFIX.to_string()
            } else {
                format!("{}_", env_name(name))
            };
            let Some(rest) = var.strip_prefix(&prefix) else {
                continue;
            };
            if rest.is_empty() {
                continue;
            }
            let mut path = table.clone();
            path.push(rest.to_ascii_lowercase());
            if !found.contains(&path) && shape.is_optional_key(&path) {
                found.push(path);
            }
        }
        found
    };
    if let Some(path) = candidates(false).into_iter().next() {
        return Some(EnvTarget {
            path,
            default: None,
            full: true,
        });
    }
    match &candidates(true)[..] {
        [path] => Some(EnvTarget {
            path: path.clone(),
            default: None,
            full: false,
        }),
        _ => None,
    }
}
