//! Least-squares line through (x, y) points: resident memory against the
//! number of connections gives the memory per connection as its slope.

/// `y = intercept + slope * x`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Line {
    pub slope: f64,
    pub intercept: f64,
    /// Coefficient of determination (1 = the points are on the line).
    pub r2: f64,
}

/// Fits a line; `None` with fewer than two distinct x.
pub fn linear_fit(points: &[(f64, f64)]) -> Option<Line> {
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let syy: f64 = points.iter().map(|p| (p.1 - my).powi(2)).sum();
    let slope = sxy / sxx;
    let intercept = my - slope * mx;
    let r2 = if syy == 0.0 {
        1.0
    } else {
        (sxy * sxy) / (sxx * syy)
    };
    Some(Line {
        slope,
        intercept,
        r2,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_on_a_line_give_its_slope_and_intercept() {
        let l = linear_fit(&[(0.0, 10.0), (1000.0, 30.0), (5000.0, 110.0)]).unwrap();
        assert!((l.slope - 0.02).abs() < 1e-12);
        assert!((l.intercept - 10.0).abs() < 1e-9);
        assert!((l.r2 - 1.0).abs() < 1e-12);
    }

    #[test]
    fn noisy_points_give_the_least_squares_slope() {
        let l = linear_fit(&[(1.0, 1.0), (2.0, 3.0), (3.0, 2.0)]).unwrap();
        assert!((l.slope - 0.5).abs() < 1e-12);
        assert!(l.r2 < 1.0);
    }

    #[test]
    fn too_few_points_fit_nothing() {
        assert!(linear_fit(&[]).is_none());
        assert!(linear_fit(&[(1.0, 2.0)]).is_none());
        assert!(linear_fit(&[(1.0, 2.0), (1.0, 3.0)]).is_none());
    }
}
