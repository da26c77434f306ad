//! The configuration reference, generated from the registry so it cannot drift.

use crate::{KEYS, env_var_for};

/// Markdown for `docs/configuration.md`.
pub fn render_markdown() -> String {
    let mut out = String::from(
        "# Configuration\n\n\
         <!-- Generated from crates/config/src/registry.rs by `ember conf --markdown`; \
         a test fails when this file is stale. -->\n\n\
         Settings are read from, lowest precedence first: the defaults below, \
         `--properties-file FILE` (Spark's format: `key value` or `key=value` per line, `#` comments), \
         environment variables, `--conf key=value`, and `SET key = value` in SQL. \
         A key Ember does not know, or a value of the wrong type, is an error that names the key.\n\n\
         Keys under `datafusion.` are passed to the DataFusion engine, which validates them \
         (see DataFusion's configuration reference); set them with `--conf` or `SET`.\n\n\
         | key | type | default | environment variable | description |\n\
         |---|---|---|---|---|\n",
    );
    for key in KEYS {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            key.name,
            key.kind.describe(),
            key.default
                .map(|d| format!("`{d}`"))
                .unwrap_or_else(|| "unset".into()),
            if key.is_family() {
                "(use --conf)".to_string()
            } else {
                format!("`{}`", env_var_for(key.name))
            },
            key.doc
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checked-in reference must match the registry; set `EMBER_BLESS=1` to rewrite it.
    #[test]
    fn configuration_doc_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/configuration.md");
        let expected = render_markdown();
        if std::env::var_os("EMBER_BLESS").is_some() {
            std::fs::write(path, &expected).unwrap();
        }
        let actual = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            actual == expected,
            "docs/configuration.md is stale: run `EMBER_BLESS=1 cargo test -p ember-config` (or `ember conf --markdown > docs/configuration.md`)"
        );
    }
}
