//! Logs on stderr through `tracing`: level from spark.log.level unless RUST_LOG is set, text
//! or JSON lines from ember.log.format.

use std::io::IsTerminal;

use ember_config::EmberConf;
use tracing_subscriber::EnvFilter;

pub fn init(conf: &EmberConf) {
    let level = conf
        .get("spark.log.level")
        .unwrap_or("WARN")
        .to_ascii_lowercase();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    // A second init (tests, embedding) keeps the first subscriber.
    let _ = if conf.get("ember.log.format") == Some("json") {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
