//! The language of a V Chat client's error texts: Arabic if its
//! `accept-language` starts with `ar`, else English.

use crate::core::{CoreError, ErrorCode};

/// The language of a client's error texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Ar,
}

impl Lang {
    /// From `accept-language`: Arabic if its first language is `ar…`.
    pub fn from_headers(headers: &http::HeaderMap) -> Lang {
        let first = headers
            .get(http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split([',', ';']).next())
            .map(str::trim)
            .unwrap_or("");
        if first.len() >= 2 && first[..2].eq_ignore_ascii_case("ar") {
            Lang::Ar
        } else {
            Lang::En
        }
    }

    /// An error's text in this language (English keeps the details).
    pub fn error(self, error: &CoreError) -> String {
        self.text(error.code(), error.to_string())
    }

    /// The text of an error with `code`, given its English text.
    pub fn text(self, code: ErrorCode, english: String) -> String {
        match self {
            Lang::En => english,
            Lang::Ar => arabic(code).to_owned(),
        }
    }

    /// A refused handshake's text in this language.
    pub fn refusal(self, message: String) -> String {
        match self {
            Lang::En => message,
            Lang::Ar => "رمز الدخول مفقود أو غير صالح".to_owned(),
        }
    }
}

fn arabic(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::Unauthenticated => "يلزم تسجيل الدخول",
        ErrorCode::Forbidden => "غير مسموح لك بهذا الإجراء",
        ErrorCode::NotFound => "غير موجود",
        ErrorCode::InvalidPayload => "البيانات المرسلة غير صالحة",
        ErrorCode::RateLimited => "طلبات كثيرة، حاول مرة أخرى لاحقاً",
        ErrorCode::Conflict => "يتعارض مع الحالة الحالية",
        ErrorCode::Unavailable => "الخدمة غير متاحة مؤقتاً",
        ErrorCode::Internal => "حدث خطأ في الخادم",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(lang: &str) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        h.insert(http::header::ACCEPT_LANGUAGE, lang.parse().unwrap());
        h
    }

    #[test]
    fn accept_language_picks_arabic_or_english() {
        assert_eq!(Lang::from_headers(&headers("ar")), Lang::Ar);
        assert_eq!(Lang::from_headers(&headers("ar-EG,en;q=0.8")), Lang::Ar);
        assert_eq!(Lang::from_headers(&headers("en-US")), Lang::En);
        assert_eq!(Lang::from_headers(&headers("fr")), Lang::En);
        assert_eq!(Lang::from_headers(&http::HeaderMap::new()), Lang::En);
        let e = CoreError::NotFound("conversation");
        assert_eq!(Lang::En.error(&e), "conversation not found");
        assert_eq!(Lang::Ar.error(&e), "غير موجود");
    }
}
