//! `overhead.svg`: medians as horizontal bars on a log scale, p10–p90 whiskers, one row per subject.
//! Written by hand, self-contained (no scripts, no external fonts or styles).

use std::fmt::Write as _;

use super::report::{time, Report};
use super::subjects::Group;

const WIDTH: f64 = 980.0;
const LABEL_W: f64 = 300.0;
const PLOT_X0: f64 = LABEL_W + 10.0;
const PLOT_X1: f64 = 800.0;
const TOP: f64 = 64.0;
const ROW: f64 = 22.0;
const BAR: f64 = 12.0;

fn colour(g: Group) -> &'static str {
    match g {
        Group::Baseline => "#6b7280",
        Group::Gauntlet => "#2563eb",
        Group::Layer => "#93c5fd",
        Group::Peer => "#f59e0b",
        Group::Wasm => "#10b981",
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The log-scale axis: whole decades around every p10 and p90 of the run.
struct Axis {
    lo: f64,
    hi: f64,
}

impl Axis {
    fn of(r: &Report) -> Axis {
        let vals = r
            .subjects
            .iter()
            .flat_map(|s| [s.p10_us, s.p90_us, s.median_us])
            .flatten();
        let (min, max) = vals
            .filter(|v| *v > 0.0)
            .fold((f64::MAX, f64::MIN), |(a, b), v| (a.min(v), b.max(v)));
        if min > max {
            return Axis { lo: 1.0, hi: 3.0 };
        }
        let lo = min.log10().floor();
        let hi = max.log10().ceil().max(lo + 1.0);
        Axis { lo, hi }
    }

    fn x(&self, us: f64) -> f64 {
        let t = (us.max(10f64.powf(self.lo)).log10() - self.lo) / (self.hi - self.lo);
        PLOT_X0 + t.clamp(0.0, 1.0) * (PLOT_X1 - PLOT_X0)
    }
}

pub fn render(r: &Report) -> String {
    let axis = Axis::of(r);
    let rows = r.subjects.len() as f64;
    let axis_y = TOP + rows * ROW + 6.0;
    let height = axis_y + 60.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">"#
    );
    let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        s,
        r#"<text x="12" y="24" font-size="16" font-weight="bold">Start-to-exit of `true`: median, p10–p90 whiskers (log scale)</text>"#
    );
    let _ = writeln!(
        s,
        r##"<text x="12" y="44" font-size="11" fill="#374151">{}</text>"##,
        esc(&r.machine.line())
    );
    // Decade grid with 2× and 5× minor lines.
    let mut d = axis.lo;
    while d <= axis.hi {
        let base = 10f64.powf(d);
        let x = axis.x(base);
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{axis_y}" stroke="#d1d5db"/><text x="{x:.1}" y="{:.1}" text-anchor="middle" fill="#374151">{}</text>"##,
            axis_y + 16.0,
            esc(&time(base))
        );
        for m in [2.0, 5.0] {
            if d < axis.hi {
                let x = axis.x(base * m);
                let _ = writeln!(
                    s,
                    r##"<line x1="{x:.1}" y1="{TOP}" x2="{x:.1}" y2="{axis_y}" stroke="#f3f4f6"/>"##
                );
            }
        }
        d += 1.0;
    }
    let _ = writeln!(
        s,
        r##"<line x1="{PLOT_X0}" y1="{axis_y}" x2="{PLOT_X1}" y2="{axis_y}" stroke="#111827"/>"##
    );
    for (i, sub) in r.subjects.iter().enumerate() {
        let cy = TOP + i as f64 * ROW + ROW / 2.0;
        let _ = writeln!(
            s,
            r#"<text x="{LABEL_W}" y="{:.1}" text-anchor="end">{}</text>"#,
            cy + 4.0,
            esc(&sub.label)
        );
        match (sub.median_us, sub.p10_us, sub.p90_us) {
            (Some(m), Some(lo), Some(hi)) => {
                let xm = axis.x(m);
                let (xl, xh) = (axis.x(lo), axis.x(hi));
                let ratio = sub
                    .ratio_to_bare
                    .map_or(String::new(), |x| format!(" ({x:.2}× bare)"));
                let _ = writeln!(
                    s,
                    r##"<rect x="{PLOT_X0}" y="{:.1}" width="{:.1}" height="{BAR}" fill="{}"><title>{}: median {}, p10 {}, p90 {}</title></rect>"##,
                    cy - BAR / 2.0,
                    (xm - PLOT_X0).max(1.0),
                    colour(sub.group),
                    esc(&sub.label),
                    time(m),
                    time(lo),
                    time(hi)
                );
                let _ = writeln!(
                    s,
                    r##"<path d="M{xl:.1} {cy:.1}H{xh:.1}M{xl:.1} {:.1}V{:.1}M{xh:.1} {:.1}V{:.1}" stroke="#111827" fill="none"/>"##,
                    cy - 4.0,
                    cy + 4.0,
                    cy - 4.0,
                    cy + 4.0
                );
                let _ = writeln!(
                    s,
                    r#"<text x="{:.1}" y="{:.1}">{}{}</text>"#,
                    xh.max(xm) + 6.0,
                    cy + 4.0,
                    esc(&time(m)),
                    esc(&ratio)
                );
            }
            _ => {
                let what = match (&sub.error, sub.status) {
                    (_, "not_installed") => "not installed".to_string(),
                    (Some(e), _) => format!("failed: {}", e.chars().take(90).collect::<String>()),
                    (None, _) => "no samples".to_string(),
                };
                let _ = writeln!(
                    s,
                    r##"<text x="{:.1}" y="{:.1}" fill="#6b7280" font-style="italic">{}</text>"##,
                    PLOT_X0 + 4.0,
                    cy + 4.0,
                    esc(&what)
                );
            }
        }
    }
    let legend = [
        ("baseline", Group::Baseline),
        ("Gauntlet", Group::Gauntlet),
        ("Gauntlet, one layer removed", Group::Layer),
        ("peer sandbox", Group::Peer),
        ("wasm", Group::Wasm),
    ];
    let mut x = PLOT_X0;
    let ly = axis_y + 40.0;
    for (name, g) in legend {
        let _ = writeln!(
            s,
            r#"<rect x="{x:.1}" y="{:.1}" width="12" height="12" fill="{}"/><text x="{:.1}" y="{:.1}">{name}</text>"#,
            ly - 10.0,
            colour(g),
            x + 16.0,
            ly
        );
        x += 24.0 + 7.0 * name.len() as f64;
    }
    s.push_str("</svg>\n");
    s
}
