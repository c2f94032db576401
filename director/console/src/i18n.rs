//! The console's labels: Fluent files under `i18n/` embedded in the binary, French first
//! (checked at compile time by `fl!`), English second, one loader per [`Locale`].

use i18n_embed::fluent::{FluentLanguageLoader, fluent_language_loader};
use i18n_embed::unic_langid::LanguageIdentifier;
use i18n_embed::{I18nEmbedError, LanguageLoader};
use std::sync::LazyLock;

#[derive(rust_embed::RustEmbed)]
#[folder = "i18n/"]
struct Localizations;

/// A language of the console's labels.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Locale {
    /// French, the reference (facilitators of the programme work in French).
    #[default]
    Fr,
    /// English, for visiting staff and reviewers.
    En,
}

impl Locale {
    /// The BCP 47 tag (`"fr"`, `"en"`).
    pub fn tag(self) -> &'static str {
        match self {
            Self::Fr => "fr",
            Self::En => "en",
        }
    }

    /// The other locale (the top bar's switch).
    pub fn other(self) -> Self {
        match self {
            Self::Fr => Self::En,
            Self::En => Self::Fr,
        }
    }
}

struct Loaders {
    fr: FluentLanguageLoader,
    en: FluentLanguageLoader,
}

fn language(tag: &str) -> LanguageIdentifier {
    tag.parse().unwrap_or_default()
}

/// Loads both locales; labels fall back to their message id when loading failed ([`check`]
/// says why).
fn build() -> Result<Loaders, I18nEmbedError> {
    let base: FluentLanguageLoader = fluent_language_loader!();
    base.load_languages(&Localizations, &[language("fr"), language("en")])?;
    // Fluent wraps arguments in Unicode isolation marks; egui would draw them as boxes.
    base.set_use_isolating(false);
    Ok(Loaders {
        fr: base.select_languages(&[language("fr")]),
        en: base.select_languages(&[language("en")]),
    })
}

static LOADERS: LazyLock<Loaders> = LazyLock::new(|| {
    build().unwrap_or_else(|_| {
        let fallback: FluentLanguageLoader = fluent_language_loader!();
        Loaders {
            fr: fallback.select_languages(&[language("fr")]),
            en: fallback.select_languages(&[language("en")]),
        }
    })
});

/// The loader of `locale`'s labels (used by `fl!`).
pub fn loader(locale: Locale) -> &'static FluentLanguageLoader {
    match locale {
        Locale::Fr => &LOADERS.fr,
        Locale::En => &LOADERS.en,
    }
}

/// Whether the embedded Fluent files load.
///
/// # Errors
/// The loader's error (a missing or unparsable `.ftl` file).
pub fn check() -> Result<(), I18nEmbedError> {
    build().map(|_| ())
}

/// The embedded Fluent source of `locale` (`i18n/<tag>/boussole-console.ftl`), for tests that
/// compare the locales' message ids.
pub fn source(locale: Locale) -> Option<String> {
    let file = Localizations::get(&format!("{}/boussole-console.ftl", locale.tag()))?;
    String::from_utf8(file.data.into_owned()).ok()
}

/// A label of the console in `locale`: `tr!(locale, "id")` or `tr!(locale, "id", arg = value)`.
macro_rules! tr {
    ($locale:expr, $id:tt) => {
        i18n_embed_fl::fl!($crate::i18n::loader($locale), $id)
    };
    ($locale:expr, $id:tt, $($args:tt)*) => {
        i18n_embed_fl::fl!($crate::i18n::loader($locale), $id, $($args)*)
    };
}
pub(crate) use tr;
