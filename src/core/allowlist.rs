//! Attachments from elsewhere: the prefixes of URLs (`https://cdn.example.com/`)
//! and of server paths (`/uploads/chat/`) under which an app that moves to
//! confab keeps files on its old servers and CDNs. An attachment under one
//! of them may be sent without having been uploaded to confab; with a list
//! set, an attachment of its kind (an http(s) URL, a server path outside
//! confab's uploads) must be under one of its prefixes. The service applies
//! it (`Service::check_attachments`); the config checks the prefixes.
//!
//! Matching is strict, so that nothing outside a prefix passes for inside:
//! a URL's scheme, host and port must equal the prefix's (a plain
//! `host[:port]`: no user info, no percent-encoding, no backslash, so
//! `https://cdn.example.com.evil.com/` and `https://cdn.example.com@evil.com/`
//! are other hosts), and the path must start with the prefix's path, which
//! ends with `/` (a prefix names a folder: `/uploads/chat` is
//! `/uploads/chat/`, never `/uploads/chatter`). A path with a dot segment
//! (`..`, `.`, also percent-encoded), an encoded separator (`%2F`, `%5C`),
//! a backslash or an encoded percent sign (double encoding) is under no
//! prefix.

/// What may be attached without having been uploaded here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowlist {
    urls: Vec<UrlPrefix>,
    paths: Vec<String>,
}

/// An http(s) URL prefix, or an http(s) URL as matched against one.
#[derive(Debug, Clone, PartialEq, Eq)]
struct UrlPrefix {
    https: bool,
    /// Lower case.
    host: String,
    port: u16,
    path: String,
}

/// Where confab's own uploads are served: a path prefix may not take in
/// all of them.
const UPLOADS: &str = "/uploads/";

impl Allowlist {
    /// The allowlist of these URL and path prefixes; the error says which
    /// prefix is not one, and why.
    pub fn new(url_prefixes: &[String], path_prefixes: &[String]) -> Result<Self, String> {
        let urls = url_prefixes
            .iter()
            .map(|p| url_prefix(p).map_err(|why| format!("{p:?} {why}")))
            .collect::<Result<_, _>>()?;
        let paths = path_prefixes
            .iter()
            .map(|p| path_prefix(p).map_err(|why| format!("{p:?} {why}")))
            .collect::<Result<_, _>>()?;
        Ok(Allowlist { urls, paths })
    }

    /// Whether http(s) URLs must be under a URL prefix (some are set).
    pub fn restricts_urls(&self) -> bool {
        !self.urls.is_empty()
    }

    /// Whether server paths outside confab's uploads must be under a path
    /// prefix (some are set).
    pub fn restricts_paths(&self) -> bool {
        !self.paths.is_empty()
    }

    /// Whether `url` is under one of the URL prefixes.
    pub fn allows_url(&self, url: &str) -> bool {
        let Some(u) = split_url(url) else {
            return false;
        };
        safe_path(&u.path)
            && self.urls.iter().any(|p| {
                p.https == u.https
                    && p.host == u.host
                    && p.port == u.port
                    && u.path.starts_with(&p.path)
            })
    }

    /// Whether the server path `path` (a query or fragment after it is
    /// ignored) is under one of the path prefixes.
    pub fn allows_path(&self, path: &str) -> bool {
        let path = path.split(['?', '#']).next().unwrap_or(path);
        path.starts_with('/')
            && !path.starts_with("//")
            && safe_path(path)
            && self.paths.iter().any(|p| path.starts_with(p.as_str()))
    }
}

/// A URL prefix from the config: an http(s) URL with a host and no query
/// or fragment, its path taken as a folder.
fn url_prefix(s: &str) -> Result<UrlPrefix, &'static str> {
    let mut p = split_url(s).ok_or("is not an http(s) URL with a plain host[:port]")?;
    if s.contains(['?', '#']) {
        return Err("must not have a query or fragment");
    }
    if !safe_path(&p.path) {
        return Err("must not have dot segments or encoded separators");
    }
    if !p.path.ends_with('/') {
        p.path.push('/');
    }
    Ok(p)
}

/// A path prefix from the config: a server path, taken as a folder, that
/// does not take in all of confab's uploads.
fn path_prefix(s: &str) -> Result<String, &'static str> {
    if !s.starts_with('/') || s.starts_with("//") || s.contains(['?', '#']) {
        return Err("is not a server path (/folder/)");
    }
    if s.chars().any(|c| c.is_control() || c.is_whitespace()) || !safe_path(s) {
        return Err("must not have spaces, dot segments or encoded separators");
    }
    let mut p = s.to_owned();
    if !p.ends_with('/') {
        p.push('/');
    }
    if UPLOADS.starts_with(p.as_str()) {
        return Err("takes in every upload of confab's (/uploads/): name a folder below it");
    }
    Ok(p)
}

/// An http(s) URL as scheme, lower-case host, port (the scheme's default
/// if none) and path (`/` if none), without its query and fragment; `None`
/// for anything else, or an authority that is more than a plain
/// `host[:port]`.
fn split_url(s: &str) -> Option<UrlPrefix> {
    let (https, rest) = match s.get(..8) {
        Some(head) if head.eq_ignore_ascii_case("https://") => (true, &s[8..]),
        _ => match s.get(..7) {
            Some(head) if head.eq_ignore_ascii_case("http://") => (false, &s[7..]),
            _ => return None,
        },
    };
    let end = rest.find(['/', '?', '#', '\\']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (host, port) = host_port(authority, if https { 443 } else { 80 })?;
    if tail.starts_with('\\') {
        return None;
    }
    let path = tail.split(['?', '#']).next().unwrap_or("");
    Some(UrlPrefix {
        https,
        host,
        port,
        path: if path.is_empty() {
            "/".into()
        } else {
            path.into()
        },
    })
}

/// A plain `host[:port]`: a DNS name of letters, digits, dots and hyphens
/// (no empty label), an IPv4 address, or an IPv6 address in brackets.
fn host_port(authority: &str, default_port: u16) -> Option<(String, u16)> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (addr, after) = v6.split_once(']')?;
        if addr.is_empty()
            || !addr
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
        {
            return None;
        }
        let port = match after {
            "" => None,
            after => Some(after.strip_prefix(':')?),
        };
        (format!("[{}]", addr.to_ascii_lowercase()), port)
    } else {
        let (host, port) = match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        let plain = !host.is_empty()
            && host.split('.').all(|label| {
                !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !plain {
            return None;
        }
        (host.to_ascii_lowercase(), port)
    };
    let port = match port {
        None => default_port,
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            p.parse().ok().filter(|p| *p != 0)?
        }
        Some(_) => return None,
    };
    Some((host, port))
}

/// Whether a path holds no dot segment (also percent-encoded), no encoded
/// separator or percent sign, and no backslash: nothing a server could
/// resolve to a path outside the folder it seems to be in.
pub fn safe_path(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    !path.contains('\\')
        && !["%2f", "%5c", "%25"].iter().any(|e| lower.contains(e))
        && lower.split('/').all(|seg| {
            let seg = seg.replace("%2e", ".");
            seg != "." && seg != ".."
        })
}

#[cfg(test)]
mod tests;
