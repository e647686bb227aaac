//! The keys of the configuration, found in the defaults rather than written
//! out, and how one key is set from a string (an environment variable or a
//! flag) in a TOML table.

use toml::{Table, Value};

use super::Config;

/// One overridable key found in the defaults.
pub(super) struct Leaf {
    pub(super) path: Vec<String>,
    pub(super) default: Value,
}

/// The shape of the defaults: leaf keys (with their default values, which
/// give their types) and tables.
pub(super) struct Shape {
    pub(super) leaves: Vec<Leaf>,
    pub(super) tables: Vec<Vec<String>>,
}

impl Shape {
    pub(super) fn of(defaults: &Table) -> Shape {
        fn walk(t: &Table, prefix: &mut Vec<String>, shape: &mut Shape) {
            shape.tables.push(prefix.clone());
            for (k, v) in t {
                prefix.push(k.clone());
                match v {
                    Value::Table(inner) => walk(inner, prefix, shape),
                    other => shape.leaves.push(Leaf {
                        path: prefix.clone(),
                        default: other.clone(),
                    }),
                }
                prefix.pop();
            }
        }
        let mut shape = Shape {
            leaves: Vec::new(),
            tables: Vec::new(),
        };
        walk(defaults, &mut Vec::new(), &mut shape);
        // Deepest tables first, so the most specific prefix wins.
        shape.tables.sort_by_key(|t| std::cmp::Reverse(t.len()));
        shape
    }

    pub(super) fn leaf(&self, path: &[String]) -> Option<&Leaf> {
        self.leaves.iter().find(|l| l.path == path)
    }

    /// Whether `path` is an optional key: one the config knows but the
    /// defaults leave out (None by default), so neither a leaf nor a table.
    pub(super) fn is_optional_key(&self, path: &[String]) -> bool {
        self.leaf(path).is_none()
            && !self.tables.iter().any(|t| t[..] == path[..])
            && [
                Value::String(String::new()),
                Value::Boolean(false),
                Value::Integer(0),
                Value::Array(Vec::new()),
            ]
            .into_iter()
            .any(|probe| check_sparse(path, probe).is_ok())
    }
}

/// Parses `raw` for the key at `path` by the type of its `default` (None
/// for an optional key) and checks that the key takes the value. `Ok(None)`
/// unsets an optional key.
pub(super) fn parse_key(
    path: &[String],
    raw: &str,
    default: Option<&Value>,
) -> Result<Option<Value>, String> {
    if default.is_none() {
        return parse_optional(path, raw);
    }
    let value = parse_value(raw, default)?;
    if let Some(v) = &value {
        check_sparse(path, v.clone())?;
    }
    Ok(value)
}

/// Parses a string for an optional key, whose type no default gives: the
/// string itself if the key takes a string, else the first of a boolean, an
/// integer or a comma-separated list of strings that it takes.
fn parse_optional(path: &[String], raw: &str) -> Result<Option<Value>, String> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    let string = Value::String(raw.to_string());
    let Err(first) = check_sparse(path, string.clone()) else {
        return Ok(Some(string));
    };
    let list = parse_value(raw, Some(&Value::Array(Vec::new())))?;
    let others = [
        parse_scalar(raw, &Value::Boolean(false)).ok(),
        parse_scalar(raw, &Value::Integer(0)).ok(),
        list,
    ];
    others
        .into_iter()
        .flatten()
        .find(|v| check_sparse(path, v.clone()).is_ok())
        .map(Some)
        .ok_or(first)
}

/// Parses a string by the type of the key's default. `Ok(None)` unsets an
/// optional key.
fn parse_value(raw: &str, default: Option<&Value>) -> Result<Option<Value>, String> {
    match default {
        None => {
            if raw.trim().is_empty() {
                Ok(None)
            } else {
                Ok(Some(Value::String(raw.to_string())))
            }
        }
        Some(Value::Array(items)) => {
            let element = items.first();
            let mut out = Vec::new();
            for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                if let Some(v) = parse_value(part, element)? {
                    out.push(v);
                }
            }
            Ok(Some(Value::Array(out)))
        }
        Some(d) => parse_scalar(raw, d).map(Some),
    }
}

fn parse_scalar(raw: &str, default: &Value) -> Result<Value, String> {
    let t = raw.trim();
    match default {
        Value::Integer(_) => t
            .parse::<i64>()
            .map(Value::Integer)
            .map_err(|_| format!("expected an integer, got {raw:?}")),
        Value::Float(_) => t
            .parse::<f64>()
            .map(Value::Float)
            .map_err(|_| format!("expected a number, got {raw:?}")),
        Value::Boolean(_) => match t.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(Value::Boolean(true)),
            "false" | "0" | "no" | "off" => Ok(Value::Boolean(false)),
            _ => Err(format!("expected true or false, got {raw:?}")),
        },
        Value::Table(_) => Err("a table cannot be set from a single value".into()),
        _ => Ok(Value::String(raw.to_string())),
    }
}

/// Sets (or with None removes) the value at `path`, creating tables.
pub(super) fn set_path(table: &mut Table, path: &[String], value: Option<Value>) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut t = table;
    for p in parents {
        let entry = t
            .entry(p.clone())
            .or_insert_with(|| Value::Table(Table::new()));
        if !entry.is_table() {
            *entry = Value::Table(Table::new());
        }
        let Value::Table(inner) = entry else {
            return;
        };
        t = inner;
    }
    match value {
        Some(v) => {
            t.insert(last.clone(), v);
        }
        None => {
            t.remove(last);
        }
    }
}

/// Deserializes a config holding only this one key (the rest defaults), to
/// check the key exists and the value has the right type.
fn check_sparse(path: &[String], value: Value) -> Result<(), String> {
    let mut t = Table::new();
    set_path(&mut t, path, Some(value));
    Value::Table(t)
        .try_into::<Config>()
        .map(|_| ())
        .map_err(|e| e.to_string().trim().to_string())
}

pub(super) fn deep_merge(base: &mut Table, over: Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(Value::Table(b)), Value::Table(o)) => deep_merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}
