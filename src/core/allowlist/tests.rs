//! Prefix matching, as a table: what is under a prefix and what only looks
//! as if it were.

use super::*;

fn list(urls: &[&str], paths: &[&str]) -> Allowlist {
    let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    Allowlist::new(&owned(urls), &owned(paths)).expect("valid prefixes")
}

#[test]
fn urls_match_by_scheme_host_port_and_whole_folders() {
    let l = list(
        &[
            "https://cdn.example.com",
            "https://files.example.com:8443/app/chat",
            "http://[::1]:8080/media/",
        ],
        &[],
    );
    for (url, allowed) in [
        ("https://cdn.example.com/a.png", true),
        ("https://cdn.example.com/", true),
        ("https://cdn.example.com", true),
        ("https://CDN.Example.COM/x/y.jpg?size=2#top", true),
        ("HTTPS://cdn.example.com/a.png", true),
        ("https://cdn.example.com:443/a.png", true),
        // Other hosts that begin or end like it.
        ("https://cdn.example.com.evil.com/a.png", false),
        ("https://evilcdn.example.com/a.png", false),
        ("https://cdn.example.co/a.png", false),
        ("https://cdn.example.com@evil.com/a.png", false),
        ("https://user@cdn.example.com/a.png", false),
        ("https://cdn.example.com\\@evil.com/a.png", false),
        ("https://cdn.example.com%2eevil.com/a.png", false),
        ("https://cdn.example.com./a.png", false),
        // Another scheme or port.
        ("http://cdn.example.com/a.png", false),
        ("https://cdn.example.com:8443/a.png", false),
        ("ftp://cdn.example.com/a.png", false),
        ("//cdn.example.com/a.png", false),
        // A folder is matched whole.
        ("https://files.example.com:8443/app/chat/a.png", true),
        ("https://files.example.com:8443/app/chatter/a.png", false),
        ("https://files.example.com:8443/app/chat", false),
        ("https://files.example.com/app/chat/a.png", false),
        // No escaping the folder.
        ("https://files.example.com:8443/app/chat/../secret", false),
        (
            "https://files.example.com:8443/app/chat/%2e%2E/secret",
            false,
        ),
        ("https://files.example.com:8443/app/chat/..%2Fsecret", false),
        ("https://files.example.com:8443/app/chat/..%5csecret", false),
        (
            "https://files.example.com:8443/app/chat/%252e%252e/secret",
            false,
        ),
        ("https://files.example.com:8443/app/chat/./a.png", false),
        ("https://files.example.com:8443/app/chat\\..\\secret", false),
        ("http://[::1]:8080/media/v.mp4", true),
        ("http://[::1]/media/v.mp4", false),
        ("http://[::2]:8080/media/v.mp4", false),
    ] {
        assert_eq!(l.allows_url(url), allowed, "{url}");
    }
    assert!(l.restricts_urls());
    assert!(!l.restricts_paths());
}

#[test]
fn paths_match_whole_folders_and_cannot_step_out() {
    let l = list(&[], &["/uploads/chat", "/media/old/"]);
    for (path, allowed) in [
        ("/uploads/chat/a.jpg", true),
        ("/uploads/chat/2024/05/a.jpg?v=2", true),
        ("/media/old/x.pdf", true),
        ("/uploads/chatter/a.jpg", false),
        ("/uploads/chat", false),
        ("/uploads/image/a.webp", false),
        ("/Uploads/chat/a.jpg", false),
        ("//uploads/chat/a.jpg", false),
        ("uploads/chat/a.jpg", false),
        ("https://host/uploads/chat/a.jpg", false),
        ("/uploads/chat/../image/a.webp", false),
        ("/uploads/chat/%2E%2e/image/a.webp", false),
        ("/uploads/chat/..%2fimage/a.webp", false),
        ("/uploads/chat/..%5Cimage/a.webp", false),
        ("/uploads/chat/%252e%252e/image/a.webp", false),
        ("/uploads/chat/.\\a.jpg", false),
        ("/uploads/chat/./a.jpg", false),
    ] {
        assert_eq!(l.allows_path(path), allowed, "{path}");
    }
    assert!(l.restricts_paths());
    assert!(!l.restricts_urls());
}

#[test]
fn an_empty_list_restricts_nothing_and_allows_nothing() {
    let l = Allowlist::default();
    assert!(!l.restricts_urls() && !l.restricts_paths());
    assert!(!l.allows_url("https://cdn.example.com/a.png"));
    assert!(!l.allows_path("/uploads/chat/a.jpg"));
}

#[test]
fn prefixes_that_are_not_folders_of_a_plain_url_or_path_are_refused() {
    for bad in [
        "cdn.example.com",
        "ftp://cdn.example.com/",
        "https://",
        "https:///files/",
        "https://user@cdn.example.com/",
        "https://cdn.example.com:0/",
        "https://cdn.example.com:99999/",
        "https://cdn.example.com:/",
        "https://cdn..example.com/",
        "https://cdn.example.com/files?x=1",
        "https://cdn.example.com/files/../",
        "https://cdn.example.com/a%2fb/",
        "https://exämple.com/",
    ] {
        let err = Allowlist::new(&[bad.to_owned()], &[]).unwrap_err();
        assert!(err.starts_with(&format!("{bad:?}")), "{bad}: {err}");
    }
    for bad in [
        "uploads/chat/",
        "//cdn.example.com/",
        "/",
        "/uploads",
        "/uploads/",
        "/uploads/chat/../",
        "/uploads/%2e%2e/",
        "/up loads/",
        "/uploads/chat?x",
    ] {
        let err = Allowlist::new(&[], &[bad.to_owned()]).unwrap_err();
        assert!(err.starts_with(&format!("{bad:?}")), "{bad}: {err}");
    }
}
