//! Ember's settings: one registry of every key Ember understands (Spark's name where Spark has
//! the same setting, `ember.*` for Ember's own), each with a type, a default and a description.
//! [`EmberConf`] layers values from defaults, a properties file, the environment, `--conf`
//! flags and SQL `SET`, validating each against the registry so that a misspelt key or a bad
//! value is an error naming the key and the expected type rather than a silent no-op.
//! `datafusion.*` keys pass through to the engine, which validates them itself.

mod conf;
mod docs;
mod master;
mod registry;
mod value;

pub use conf::{ConfError, ConfSource, EmberConf, env_var_for};
pub use docs::render_markdown;
pub use master::Master;
pub use registry::{ConfKey, ENGINE_PASSTHROUGH_PREFIX, KEYS, lookup};
pub use value::{ValueKind, parse_bool, parse_bytes, parse_duration};
