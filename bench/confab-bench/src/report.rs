//! Latency histograms and the lines the generator prints: one `point` line
//! per measured point, one `RESULT` line per scenario (what `bench/run`
//! collects into the table).

use hdrhistogram::Histogram;

/// A latency histogram in microseconds, 1 µs to 120 s, 3 significant digits.
pub fn latency_histogram() -> Histogram<u64> {
    match Histogram::new_with_bounds(1, 120_000_000, 3) {
        Ok(h) => h,
        Err(_) => unreachable!("the bounds are valid"),
    }
}

/// Records one latency, saturating at the histogram's top.
pub fn record_us(h: &mut Histogram<u64>, us: u64) {
    h.saturating_record(us.max(1));
}

/// What a histogram says, in milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Summary {
    pub count: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

impl Summary {
    pub fn of(h: &Histogram<u64>) -> Self {
        if h.is_empty() {
            return Summary::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Summary {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.50)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
        }
    }

    /// `p50=…ms p99=…ms p999=…ms max=…ms`.
    pub fn fields(&self) -> String {
        format!(
            "p50={}ms p99={}ms p999={}ms max={}ms",
            num(self.p50_ms),
            num(self.p99_ms),
            num(self.p999_ms),
            num(self.max_ms)
        )
    }
}

/// A number with a sensible number of digits for a table.
pub fn num(x: f64) -> String {
    if !x.is_finite() {
        return "-".into();
    }
    let a = x.abs();
    if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

/// KiB as MiB.
pub fn mib(kib: u64) -> String {
    num(kib as f64 / 1024.0)
}

/// A `key=value` line with a leading tag (`point` or `RESULT`).
#[derive(Debug, Default, Clone)]
pub struct Line {
    parts: Vec<String>,
}

impl Line {
    pub fn new(tag: &str, scenario: &str, server: &str) -> Self {
        Line {
            parts: vec![
                tag.to_owned(),
                format!("scenario={scenario}"),
                format!("server={server}"),
            ],
        }
    }

    pub fn kv(mut self, key: &str, value: impl std::fmt::Display) -> Self {
        self.parts.push(format!("{key}={value}"));
        self
    }

    pub fn raw(mut self, text: impl Into<String>) -> Self {
        self.parts.push(text.into());
        self
    }

    pub fn print(&self) {
        println!("{}", self.parts.join(" "));
    }
}

impl std::fmt::Display for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.parts.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_gives_percentiles_in_milliseconds() {
        let mut h = latency_histogram();
        for us in 1..=1000 {
            record_us(&mut h, us * 10);
        }
        let s = Summary::of(&h);
        assert_eq!(s.count, 1000);
        assert!((s.p50_ms - 5.0).abs() < 0.01, "{s:?}");
        assert!((s.p99_ms - 9.9).abs() < 0.01, "{s:?}");
        assert!((s.p999_ms - 9.99).abs() < 0.01, "{s:?}");
        assert!((s.max_ms - 10.0).abs() < 0.01, "{s:?}");
    }

    #[test]
    fn an_empty_histogram_summarises_to_zero_and_huge_values_saturate() {
        assert_eq!(Summary::of(&latency_histogram()), Summary::default());
        let mut h = latency_histogram();
        record_us(&mut h, u64::MAX);
        record_us(&mut h, 0);
        assert_eq!(h.len(), 2);
    }

    #[test]
    fn lines_are_key_value_pairs() {
        let l = Line::new("RESULT", "idle", "confab").kv("kib_per_conn", num(3.456));
        assert_eq!(
            l.to_string(),
            "RESULT scenario=idle server=confab kib_per_conn=3.46"
        );
        assert_eq!(num(1234.5), "1234");
        assert_eq!(num(0.01234), "0.012");
    }
}
