//! The help text, laid out as Tornado's `print_help`.

use std::collections::BTreeMap;
use std::fmt::Write;

/// One option as the help shows it.
pub(crate) struct Entry<'a> {
    /// Its section.
    pub(crate) group: &'a str,
    /// Its name with dashes.
    pub(crate) name: String,
    /// Its placeholder.
    pub(crate) metavar: Option<&'a str>,
    /// Its help text.
    pub(crate) help: Option<&'a str>,
    /// Its default, as text.
    pub(crate) default: Option<String>,
}

/// Tornado's columns: the name in 30, the text wrapped at 79 - 35.
const NAME_WIDTH: usize = 30;
/// The width of the help column.
const TEXT_WIDTH: usize = 79 - 35;

/// The whole help text.
pub(crate) fn render<'a>(program: &str, entries: impl Iterator<Item = Entry<'a>>) -> String {
    let mut by_group: BTreeMap<&str, Vec<Entry<'a>>> = BTreeMap::new();
    for entry in entries {
        by_group.entry(entry.group).or_default().push(entry);
    }
    let mut out = String::new();
    let _ = writeln!(out, "Usage: {program} [OPTIONS]");
    let _ = writeln!(out, "\nOptions:\n");
    line(&mut out, "help", "show this help information");
    for (group, mut entries) in by_group {
        let _ = writeln!(out, "\n{group} options:\n");
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        for entry in entries {
            let mut prefix = entry.name.clone();
            if let Some(metavar) = entry.metavar {
                prefix.push('=');
                prefix.push_str(metavar);
            }
            let mut description = entry.help.unwrap_or("").to_owned();
            if let Some(default) = entry.default.filter(|default| !default.is_empty()) {
                if !description.is_empty() {
                    description.push(' ');
                }
                let _ = write!(description, "(default {default})");
            }
            line(&mut out, &prefix, &description);
        }
    }
    out.push('\n');
    out
}

/// `  --prefix   text`, the text wrapped, a long prefix on a line of its own.
fn line(out: &mut String, prefix: &str, description: &str) {
    let mut lines = wrap(description, TEXT_WIDTH);
    if prefix.len() > NAME_WIDTH || lines.is_empty() {
        lines.insert(0, String::new());
    }
    let first = lines.remove(0);
    let _ = writeln!(out, "  --{prefix:<NAME_WIDTH$} {first}");
    for rest in lines {
        let _ = writeln!(out, "{:<34} {rest}", " ");
    }
}

/// Greedy word wrap at `width` (Python's `textwrap.wrap` for plain words).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        if !current.is_empty() && current.len() + 1 + word.len() > width {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}
