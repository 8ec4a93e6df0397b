//! Where translations come from: Tornado's CSV files (`LOCALE.csv`, read with the `csv` crate)
//! and gettext catalogs (`.mo`, read with the `gettext` crate; `.po`, read with `polib` and
//! compiled to `.mo` as `msgfmt` would).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use super::LocaleError;

/// Tornado's separator between a message's context and its id in a gettext catalog.
pub(super) const CONTEXT_SEPARATOR: char = '\x04';

/// One locale's translations.
#[derive(Debug, Default)]
pub(crate) enum Catalog {
    /// No translations: every message is its own translation (the default locale).
    #[default]
    Identity,
    /// Tornado's CSV format: messages by plural indicator.
    Csv(CsvCatalog),
    /// A gettext catalog, with its plural rule.
    Gettext(gettext::Catalog),
}

/// A CSV catalog: Tornado keeps one table per plural indicator.
#[derive(Debug, Default)]
pub(crate) struct CsvCatalog {
    /// Rows marked `unknown` or with no indicator: used by `translate` without a plural.
    unknown: HashMap<String, String>,
    /// Rows marked `singular`: a plural message with a count of 1.
    singular: HashMap<String, String>,
    /// Rows marked `plural`: a plural message with any other count.
    plural: HashMap<String, String>,
}

impl Catalog {
    /// Whether this catalog translates anything (Tornado warns about `pgettext` on a CSV
    /// catalog only when it has rows).
    fn is_identity(&self) -> bool {
        matches!(self, Catalog::Identity)
    }

    /// Tornado's `translate`.
    pub(crate) fn translate(&self, message: &str, plural: Option<(&str, u64)>) -> String {
        match self {
            Catalog::Identity => match plural {
                Some((plural_message, count)) if count != 1 => plural_message.to_owned(),
                _ => message.to_owned(),
            },
            Catalog::Csv(csv) => {
                let (table, message) = match plural {
                    Some((plural_message, count)) if count != 1 => (&csv.plural, plural_message),
                    Some(_) => (&csv.singular, message),
                    None => (&csv.unknown, message),
                };
                table
                    .get(message)
                    .map_or(message, String::as_str)
                    .to_owned()
            }
            Catalog::Gettext(catalog) => match plural {
                Some((plural_message, count)) => {
                    catalog.ngettext(message, plural_message, count).to_owned()
                }
                None => catalog.gettext(message).to_owned(),
            },
        }
    }

    /// Tornado's `pgettext`: the translation in `context`, else (gettext) the translation
    /// without context, else the message. CSV files have no contexts: as Tornado, the context
    /// is ignored there (with a warning when the file has rows).
    pub(crate) fn pgettext(
        &self,
        context: &str,
        message: &str,
        plural: Option<(&str, u64)>,
    ) -> String {
        let Catalog::Gettext(catalog) = self else {
            if !self.is_identity() {
                tracing::warn!("pgettext is not supported by CSV translations");
            }
            return self.translate(message, plural);
        };
        let keyed = |text: &str| format!("{context}{CONTEXT_SEPARATOR}{text}");
        match plural {
            Some((plural_message, count)) => {
                let (singular_key, plural_key) = (keyed(message), keyed(plural_message));
                let result = catalog.ngettext(&singular_key, &plural_key, count);
                if result.contains(CONTEXT_SEPARATOR) {
                    // Not translated in this context: as Tornado, try without one.
                    catalog.ngettext(message, plural_message, count).to_owned()
                } else {
                    result.to_owned()
                }
            }
            None => {
                let key = keyed(message);
                let result = catalog.gettext(&key);
                if result.contains(CONTEXT_SEPARATOR) {
                    message.to_owned()
                } else {
                    result.to_owned()
                }
            }
        }
    }
}

/// Whether `code` is a locale code Tornado accepts for a file name: `es` or `es_GT`.
fn is_locale_code(code: &str) -> bool {
    let (language, region) = match code.split_once('_') {
        Some((language, region)) => (language, Some(region)),
        None => (code, None),
    };
    !language.is_empty()
        && language.bytes().all(|byte| byte.is_ascii_lowercase())
        && region.is_none_or(|region| {
            !region.is_empty() && region.bytes().all(|byte| byte.is_ascii_uppercase())
        })
}

/// Reads every `LOCALE.csv` in `directory` (Tornado's `load_translations`). A file whose name is
/// no locale code, and a row with an unknown plural indicator, are logged and skipped, as
/// Tornado does.
pub(super) fn load_csv_directory(
    directory: &Path,
) -> Result<HashMap<String, Catalog>, LocaleError> {
    let io_error = |source| LocaleError::Io {
        path: directory.to_owned(),
        source,
    };
    let mut catalogs = HashMap::new();
    for entry in std::fs::read_dir(directory).map_err(io_error)? {
        let path = entry.map_err(io_error)?.path();
        if path.extension().and_then(|extension| extension.to_str()) != Some("csv") {
            continue;
        }
        let Some(code) = path.file_stem().and_then(|stem| stem.to_str()) else {
            continue;
        };
        if !is_locale_code(code) {
            tracing::error!("Unrecognized locale {code:?} (path: {})", path.display());
            continue;
        }
        let catalog = load_csv_file(&path)?;
        catalogs.insert(code.to_owned(), Catalog::Csv(catalog));
    }
    Ok(catalogs)
}

/// One CSV file: UTF-8 (a byte-order mark is dropped) or UTF-16 with its mark, as Tornado
/// detects them.
fn load_csv_file(path: &Path) -> Result<CsvCatalog, LocaleError> {
    let bytes = std::fs::read(path).map_err(|source| LocaleError::Io {
        path: path.to_owned(),
        source,
    })?;
    let text = decode_text(&bytes).ok_or_else(|| LocaleError::Encoding {
        path: path.to_owned(),
    })?;
    let mut catalog = CsvCatalog::default();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    for (index, row) in reader.records().enumerate() {
        let row = row.map_err(|source| LocaleError::Csv {
            path: path.to_owned(),
            source,
        })?;
        if row.len() < 2 {
            continue;
        }
        let english = row[0].trim().to_owned();
        let translation = row[1].trim().to_owned();
        let plural = row.get(2).map(str::trim).filter(|text| !text.is_empty());
        let table = match plural.unwrap_or("unknown") {
            "unknown" => &mut catalog.unknown,
            "singular" => &mut catalog.singular,
            "plural" => &mut catalog.plural,
            other => {
                tracing::error!(
                    "Unrecognized plural indicator {other:?} in {} line {}",
                    path.display(),
                    index + 1
                );
                continue;
            }
        };
        table.insert(english, translation);
    }
    Ok(catalog)
}

/// UTF-16 (little or big endian, with its byte-order mark) or UTF-8 (an optional mark
/// dropped), as Tornado's detection; `None` if the bytes are neither.
fn decode_text(bytes: &[u8]) -> Option<String> {
    let utf16 = |rest: &[u8], little: bool| {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|pair| {
                if little {
                    u16::from_le_bytes([pair[0], pair[1]])
                } else {
                    u16::from_be_bytes([pair[0], pair[1]])
                }
            })
            .collect();
        String::from_utf16(&units).ok()
    };
    match bytes {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, true),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, false),
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8(rest.to_vec()).ok(),
        _ => String::from_utf8(bytes.to_vec()).ok(),
    }
}

/// Reads `{directory}/{lang}/LC_MESSAGES/{domain}.mo` for every `lang` (Tornado's
/// `load_gettext_translations`); where there is no `.mo` but a `{domain}.po`, the `.po` is
/// compiled. A catalog that cannot be read is logged and skipped, as Tornado does.
pub(super) fn load_gettext_directory(
    directory: &Path,
    domain: &str,
) -> Result<HashMap<String, Catalog>, LocaleError> {
    let io_error = |source| LocaleError::Io {
        path: directory.to_owned(),
        source,
    };
    let mut catalogs = HashMap::new();
    for entry in std::fs::read_dir(directory).map_err(io_error)? {
        let folder = entry.map_err(io_error)?.path();
        let Some(lang) = folder.file_name().and_then(|name| name.to_str()) else {
            continue;
        };
        let messages = folder.join("LC_MESSAGES");
        let mo = messages.join(format!("{domain}.mo"));
        let po = messages.join(format!("{domain}.po"));
        let loaded = if mo.is_file() {
            read_mo(&mo)
        } else if po.is_file() {
            read_po(&po)
        } else {
            continue;
        };
        match loaded {
            Ok(catalog) => {
                catalogs.insert(lang.to_owned(), Catalog::Gettext(catalog));
            }
            Err(error) => tracing::error!("Cannot load translation for '{lang}': {error}"),
        }
    }
    Ok(catalogs)
}

/// A compiled `.mo` catalog.
pub(super) fn read_mo(path: &Path) -> Result<gettext::Catalog, LocaleError> {
    let file = std::fs::File::open(path).map_err(|source| LocaleError::Io {
        path: path.to_owned(),
        source,
    })?;
    gettext::Catalog::parse(std::io::BufReader::new(file)).map_err(|error| LocaleError::Gettext {
        path: path.to_owned(),
        message: error.to_string(),
    })
}

/// A `.po` catalog: parsed by polib, compiled by polib to a `.mo` (the format gettext's
/// runtime, with its plural-form evaluator, reads), then read as one.
pub(super) fn read_po(path: &Path) -> Result<gettext::Catalog, LocaleError> {
    let po_error = |message: String| LocaleError::Gettext {
        path: path.to_owned(),
        message,
    };
    let catalog = polib::po_file::parse(path).map_err(|error| po_error(error.to_string()))?;
    // polib writes `.mo` files to a path only: a private file in the temporary folder,
    // removed once read.
    let compiled = temporary_mo_path();
    polib::mo_file::write(&catalog, &compiled).map_err(|source| LocaleError::Io {
        path: compiled.clone(),
        source,
    })?;
    let result = read_mo(&compiled);
    let _ = std::fs::remove_file(&compiled);
    result.map_err(|error| po_error(error.to_string()))
}

/// A fresh file name in the temporary folder for one compiled `.po`.
fn temporary_mo_path() -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let serial = NEXT.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("cyclone-locale-{}-{serial}.mo", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locale_codes_as_tornado_accepts_them() {
        assert!(is_locale_code("es"));
        assert!(is_locale_code("es_GT"));
        assert!(!is_locale_code("ES"));
        assert!(!is_locale_code("es_gt"));
        assert!(!is_locale_code("es_"));
        assert!(!is_locale_code("es-GT"));
    }

    #[test]
    fn text_is_decoded_by_its_byte_order_mark() {
        assert_eq!(decode_text(b"\xEF\xBB\xBFa").as_deref(), Some("a"));
        assert_eq!(decode_text(b"\xFF\xFEa\x00").as_deref(), Some("a"));
        assert_eq!(decode_text(b"\xFE\xFF\x00a").as_deref(), Some("a"));
        assert_eq!(decode_text(b"\xC3\xA9").as_deref(), Some("é"));
        assert_eq!(decode_text(b"\xFF"), None);
    }
}
