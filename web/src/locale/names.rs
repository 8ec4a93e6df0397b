//! Locale names (Tornado's `tornado._locale_data.LOCALE_NAMES`): for each locale code Tornado
//! knows, its name in English and in its own language, what [`Locale::name`](super::Locale::name)
//! answers. Sorted by code, for a binary search.

/// `(code, English name, own name)`, sorted by code.
pub(super) const LOCALE_NAMES: &[(&str, &str, &str)] = &[
    ("af_ZA", "Afrikaans", "Afrikaans"),
    ("am_ET", "Amharic", "አማርኛ"),
    ("ar_AR", "Arabic", "العربية"),
    ("bg_BG", "Bulgarian", "Български"),
    ("bn_IN", "Bengali", "বাংলা"),
    ("bs_BA", "Bosnian", "Bosanski"),
    ("ca_ES", "Catalan", "Català"),
    ("cs_CZ", "Czech", "Čeština"),
    ("cy_GB", "Welsh", "Cymraeg"),
    ("da_DK", "Danish", "Dansk"),
    ("de_DE", "German", "Deutsch"),
    ("el_GR", "Greek", "Ελληνικά"),
    ("en_GB", "English (UK)", "English (UK)"),
    ("en_US", "English (US)", "English (US)"),
    ("es_ES", "Spanish (Spain)", "Español (España)"),
    ("es_LA", "Spanish", "Español"),
    ("et_EE", "Estonian", "Eesti"),
    ("eu_ES", "Basque", "Euskara"),
    ("fa_IR", "Persian", "فارسی"),
    ("fi_FI", "Finnish", "Suomi"),
    ("fr_CA", "French (Canada)", "Français (Canada)"),
    ("fr_FR", "French", "Français"),
    ("ga_IE", "Irish", "Gaeilge"),
    ("gl_ES", "Galician", "Galego"),
    ("he_IL", "Hebrew", "עברית"),
    ("hi_IN", "Hindi", "हिन्दी"),
    ("hr_HR", "Croatian", "Hrvatski"),
    ("hu_HU", "Hungarian", "Magyar"),
    ("id_ID", "Indonesian", "Bahasa Indonesia"),
    ("is_IS", "Icelandic", "Íslenska"),
    ("it_IT", "Italian", "Italiano"),
    ("ja_JP", "Japanese", "日本語"),
    ("ko_KR", "Korean", "한국어"),
    ("lt_LT", "Lithuanian", "Lietuvių"),
    ("lv_LV", "Latvian", "Latviešu"),
    ("mk_MK", "Macedonian", "Македонски"),
    ("ml_IN", "Malayalam", "മലയാളം"),
    ("ms_MY", "Malay", "Bahasa Melayu"),
    ("nb_NO", "Norwegian (bokmal)", "Norsk (bokmål)"),
    ("nl_NL", "Dutch", "Nederlands"),
    ("nn_NO", "Norwegian (nynorsk)", "Norsk (nynorsk)"),
    ("pa_IN", "Punjabi", "ਪੰਜਾਬੀ"),
    ("pl_PL", "Polish", "Polski"),
    ("pt_BR", "Portuguese (Brazil)", "Português (Brasil)"),
    ("pt_PT", "Portuguese (Portugal)", "Português (Portugal)"),
    ("ro_RO", "Romanian", "Română"),
    ("ru_RU", "Russian", "Русский"),
    ("sk_SK", "Slovak", "Slovenčina"),
    ("sl_SI", "Slovenian", "Slovenščina"),
    ("sq_AL", "Albanian", "Shqip"),
    ("sr_RS", "Serbian", "Српски"),
    ("sv_SE", "Swedish", "Svenska"),
    ("sw_KE", "Swahili", "Kiswahili"),
    ("ta_IN", "Tamil", "தமிழ்"),
    ("te_IN", "Telugu", "తెలుగు"),
    ("th_TH", "Thai", "ภาษาไทย"),
    ("tl_PH", "Filipino", "Filipino"),
    ("tr_TR", "Turkish", "Türkçe"),
    ("uk_UA", "Ukraini ", "Українська"),
    ("vi_VN", "Vietnamese", "Tiếng Việt"),
    ("zh_CN", "Chinese (Simplified)", "中文(简体)"),
    ("zh_TW", "Chinese (Traditional)", "中文(繁體)"),
];

/// The English and native names of `code`, if Tornado's table has it.
pub(super) fn lookup(code: &str) -> Option<(&'static str, &'static str)> {
    LOCALE_NAMES
        .binary_search_by(|(candidate, _, _)| (*candidate).cmp(code))
        .ok()
        .map(|index| (LOCALE_NAMES[index].1, LOCALE_NAMES[index].2))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_table_is_sorted_for_binary_search() {
        assert!(
            super::LOCALE_NAMES
                .windows(2)
                .all(|pair| pair[0].0 < pair[1].0)
        );
        assert_eq!(super::lookup("es_LA"), Some(("Spanish", "Español")));
    }
}
