//! The interactive shell: line editing and history (rustyline), statements that span lines
//! until a `;`, and Ctrl-C that cancels the running query and returns to the prompt.

use std::process::ExitCode;

use ember_sql::EmberSession;
use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;

use crate::sql_command::{Sink, StatementError, run_statement};

const PROMPT: &str = "ember> ";
const CONTINUATION: &str = "    -> ";

pub fn run(runtime: &tokio::runtime::Runtime, session: &mut EmberSession, sink: &Sink) -> ExitCode {
    let mut editor = match DefaultEditor::new() {
        Ok(editor) => editor,
        Err(e) => {
            eprintln!("error: cannot start the interactive shell: {e}");
            return ExitCode::FAILURE;
        }
    };
    let history =
        std::env::var_os("HOME").map(|home| std::path::PathBuf::from(home).join(".ember_history"));
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    eprintln!(
        "Ember {} — end statements with `;`, quit with Ctrl-D or `quit;`",
        env!("CARGO_PKG_VERSION")
    );
    let mut buffer = String::new();
    loop {
        let prompt = if buffer.is_empty() {
            PROMPT
        } else {
            CONTINUATION
        };
        match editor.readline(prompt) {
            Ok(line) => {
                if buffer.is_empty()
                    && matches!(line.trim(), "quit" | "exit" | "quit;" | "exit;" | "\\q")
                {
                    break;
                }
                buffer.push_str(&line);
                buffer.push('\n');
                if !buffer.trim_end().ends_with(';') {
                    continue;
                }
                let _ = editor.add_history_entry(buffer.trim_end());
                let text = std::mem::take(&mut buffer);
                run_text(runtime, session, sink, &text);
            }
            // Ctrl-C at the prompt abandons the statement being typed.
            Err(ReadlineError::Interrupted) => buffer.clear(),
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("error: {e}");
                break;
            }
        }
    }
    if let Some(path) = &history {
        let _ = editor.save_history(path);
    }
    ExitCode::SUCCESS
}

fn run_text(
    runtime: &tokio::runtime::Runtime,
    session: &mut EmberSession,
    sink: &Sink,
    text: &str,
) {
    let script = match session.parse(text) {
        Ok(script) => script,
        Err(e) => {
            eprintln!("error: {e}");
            return;
        }
    };
    for statement in script.statements {
        let started = std::time::Instant::now();
        match run_statement(runtime, session, sink, statement, None) {
            Ok(()) => eprintln!("({:.3}s)", started.elapsed().as_secs_f64()),
            Err(StatementError::Cancelled) => {
                eprintln!("query cancelled");
                return;
            }
            Err(StatementError::Failed(e)) => {
                eprintln!("error: {e}");
                return;
            }
        }
    }
}
