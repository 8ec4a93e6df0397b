//! The template loader's name resolution (`TemplateLoader::new(root)`, minijinja's path
//! loader): a template name, which an application may build from a request, never loads a
//! file from outside the root, however it climbs (`..`, absolute paths, backslashes, NUL,
//! symlinks are the folder owner's choice and are not tested here).

use cyclone_web::template::TemplateLoader;

use super::input::Input;
use super::tree;

/// Loads the template the input names.
pub fn check(data: &[u8]) {
    let name = String::from_utf8_lossy(Input::new(data).rest()).into_owned();
    let root = tree::root();
    thread_local! {
        static LOADER: std::cell::OnceCell<TemplateLoader> = const { std::cell::OnceCell::new() };
    }
    LOADER.with(|loader| {
        let loader = loader.get_or_init(|| TemplateLoader::new(root.clone()));
        // Without the cache: every load reads the file system again.
        let env = loader.environment(false);
        if let Ok(template) = env.get_template(&name) {
            assert!(
                !template.source().contains(tree::SECRET),
                "template name {name:?} loaded a file outside the root"
            );
        }
    });
}
