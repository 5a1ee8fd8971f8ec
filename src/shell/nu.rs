//! nushell: a JSON record (`ssoenv export --shell nu | from json | load-env`); JSON strings
//! carry any value, and `null` marks a variable to hide. Nu's own string literals are avoided:
//! their escapes differ from JSON's (`\u{…}`).

use serde_json::{Map, Value};

use crate::env::Change;

pub fn render(changes: &[Change]) -> String {
    let mut m = Map::new();
    for c in changes {
        match c {
            Change::Set(k, v) => m.insert(k.as_str().to_string(), Value::String(v.clone())),
            Change::Unset(k) => m.insert(k.as_str().to_string(), Value::Null),
        };
    }
    let mut s = Value::Object(m).to_string();
    s.push('\n');
    s
}
