//! The `Entry` UI module (the demo's `EntryModule`): one entry as the home, entry and archive
//! pages show it, from `modules/entry.html`, with its stylesheet linked once per page.

use cyclone::template::minijinja::value::Value;
use cyclone::template::minijinja::{Error, ErrorKind};
use cyclone::template::{ModuleContext, UiModule, context};

/// Renders `modules.Entry(entry)`.
#[derive(Debug)]
pub struct EntryModule;

impl UiModule for EntryModule {
    fn render(&self, cx: &ModuleContext<'_>, args: &[Value]) -> Result<String, Error> {
        let entry = args
            .first()
            .cloned()
            .ok_or_else(|| Error::new(ErrorKind::MissingArgument, "Entry(entry)"))?;
        cx.render_string("modules/entry.html", context! { entry })
    }

    fn css_files(&self) -> Vec<String> {
        vec!["entry.css".to_owned()]
    }
}
