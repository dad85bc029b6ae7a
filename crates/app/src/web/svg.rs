//! Charts as inline SVG, drawn on the server: no script, no library, nothing fetched. Each
//! chart is an image with a text alternative (`role="img"`, a title naming what it shows);
//! every page puts the same figures in a table beside it, for screen readers and for copying.

use maud::{html, Markup};

const W: f64 = 900.0;
const H: f64 = 260.0;
const LEFT: f64 = 56.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 44.0;

/// How a chart's values read on its axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Percent,
    /// Values in seconds, shown as minutes or hours.
    Seconds,
    Count,
}

impl Unit {
    pub fn label(self, v: f64) -> String {
        match self {
            Unit::Percent => format!("{v:.0}%"),
            Unit::Count => format!("{v:.0}"),
            Unit::Seconds if v >= 7200.0 => format!("{:.0} h", v / 3600.0),
            Unit::Seconds => format!("{:.0} min", v / 60.0),
        }
    }
}

/// One line or one layer of a stack.
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// A horizontal band drawn behind the lines (the methodology's good / warning / red zones).
pub struct YBand {
    pub from: f64,
    pub to: f64,
    /// `band-good`, `band-warning` or `band-red`.
    pub class: &'static str,
}

struct Frame {
    n: usize,
    y_max: f64,
}

impl Frame {
    fn new(n: usize, y_max: f64) -> Frame {
        Frame {
            n: n.max(1),
            y_max: if y_max > 0.0 { y_max } else { 1.0 },
        }
    }
    fn slot(&self) -> f64 {
        (W - LEFT - RIGHT) / self.n as f64
    }
    fn x(&self, i: usize) -> f64 {
        LEFT + (i as f64 + 0.5) * self.slot()
    }
    fn y(&self, v: f64) -> f64 {
        TOP + (1.0 - (v / self.y_max).clamp(0.0, 1.0)) * (H - TOP - BOTTOM)
    }
    /// Gridlines and axis labels at quarters of the scale, and x labels (thinned to fit).
    fn axes(&self, labels: &[String], unit: Unit) -> Markup {
        let every = labels.len().div_ceil(14).max(1);
        html! {
            @for q in 0..=4 {
                @let v = self.y_max * f64::from(q) / 4.0;
                line class="grid" x1=(LEFT) x2=(W - RIGHT) y1=(self.y(v)) y2=(self.y(v)) {}
                text x=(LEFT - 6.0) y=(self.y(v) + 4.0) text-anchor="end" { (unit.label(v)) }
            }
            line class="axis" x1=(LEFT) x2=(W - RIGHT) y1=(H - BOTTOM) y2=(H - BOTTOM) {}
            @for (i, l) in labels.iter().enumerate() {
                @if i % every == 0 {
                    text x=(self.x(i)) y=(H - BOTTOM + 16.0) text-anchor="middle" { (l) }
                }
            }
        }
    }
}

/// A scale that fits `series`: four gridline steps of a round size.
pub fn scale_for(series: &[Series], unit: Unit) -> f64 {
    let max = series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .fold(0.0_f64, |m, v| m.max(*v));
    nice_max(max, unit)
}

/// The smallest round scale (four equal steps people read at a glance) at or above `max`.
fn nice_max(max: f64, unit: Unit) -> f64 {
    const SECONDS: [f64; 12] = [
        60.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 14_400.0, 21_600.0, 43_200.0, 86_400.0, 172_800.0,
    ];
    match unit {
        Unit::Percent => 100.0,
        Unit::Count => (max / 4.0).ceil().max(1.0) * 4.0,
        Unit::Seconds => SECONDS
            .iter()
            .map(|s| s * 4.0)
            .find(|m| *m >= max)
            .unwrap_or_else(|| (max / 345_600.0).ceil() * 345_600.0),
    }
}

/// Lines over `labels`, with `bands` behind them. A missing value breaks the line.
pub fn lines(title: &str, labels: &[String], series: &[Series], unit: Unit, bands: &[YBand]) -> Markup {
    let f = Frame::new(labels.len(), scale_for(series, unit));
    html! {
        svg class="chart" viewBox={ "0 0 " (W) " " (H) } role="img" aria-label=(title) {
            title { (title) }
            @for b in bands {
                rect class=(b.class) x=(LEFT) width=(W - LEFT - RIGHT) y=(f.y(b.to)) height=(f.y(b.from) - f.y(b.to)) {}
            }
            (f.axes(labels, unit))
            @for (k, s) in series.iter().enumerate() {
                @for run in runs(&s.values) {
                    polyline class={ "s" (k % 5) } points=(points(&f, &s.values, run)) {}
                }
                @for (i, v) in s.values.iter().enumerate() {
                    @if let Some(v) = v {
                        circle class={ "s" (k % 5) } cx=(f.x(i)) cy=(f.y(*v)) r="3" data-series=(s.name) data-value=(v) {
                            title { (s.name) ", " (labels[i]) ": " (unit.label(*v)) }
                        }
                    }
                }
            }
        }
        (legend(series))
    }
}

/// One drawn layer of one bar.
struct Bar<'a> {
    slot: usize,
    base: f64,
    top: f64,
    value: f64,
    class: &'a str,
    name: &'a str,
}

/// Stacked bars: each label's layers stacked in the order of `layers`.
pub fn stacked(title: &str, labels: &[String], layers: &[Series], classes: &[&str], unit: Unit) -> Markup {
    let totals: Vec<f64> = (0..labels.len())
        .map(|i| layers.iter().filter_map(|l| l.values.get(i).copied().flatten()).sum())
        .collect();
    let f = Frame::new(
        labels.len(),
        nice_max(totals.iter().fold(0.0_f64, |m, v| m.max(*v)), unit),
    );
    let width = f.slot() * 0.6;
    let mut rects = Vec::new();
    for slot in 0..labels.len() {
        let mut base = 0.0;
        for (k, l) in layers.iter().enumerate() {
            let value = l.values.get(slot).copied().flatten().unwrap_or(0.0);
            if value > 0.0 {
                let class = classes.get(k).copied().unwrap_or("s0");
                rects.push(Bar {
                    slot,
                    base,
                    top: base + value,
                    value,
                    class,
                    name: &l.name,
                });
            }
            base += value;
        }
    }
    html! {
        svg class="chart" viewBox={ "0 0 " (W) " " (H) } role="img" aria-label=(title) {
            title { (title) }
            (f.axes(labels, unit))
            @for r in &rects {
                rect class=(r.class) x=(f.x(r.slot) - width / 2.0) width=(width) y=(f.y(r.top)) height=(f.y(r.base) - f.y(r.top))
                    data-series=(r.name) data-value=(r.value) {
                    title { (r.name) ", " (labels[r.slot]) ": " (unit.label(r.value)) }
                }
            }
        }
        ul class="legend" {
            @for (k, l) in layers.iter().enumerate() {
                li { svg width="12" height="12" aria-hidden="true" { rect class=(classes.get(k).copied().unwrap_or("s0")) width="12" height="12" {} } " " (l.name) }
            }
        }
    }
}

/// Bars side by side: one group per label, one bar per series (categories, not a time axis).
pub fn grouped(title: &str, labels: &[String], series: &[Series], unit: Unit) -> Markup {
    let f = Frame::new(labels.len(), scale_for(series, unit));
    let width = f.slot() * 0.7 / series.len().max(1) as f64;
    let left = |slot: usize, k: usize| f.x(slot) - f.slot() * 0.35 + width * k as f64;
    html! {
        svg class="chart" viewBox={ "0 0 " (W) " " (H) } role="img" aria-label=(title) {
            title { (title) }
            (f.axes(labels, unit))
            @for (k, s) in series.iter().enumerate() {
                @for (slot, v) in s.values.iter().enumerate() {
                    @if let Some(v) = v {
                        rect class={ "s" (k % 5) } x=(left(slot, k)) width=(width * 0.9) y=(f.y(*v)) height=(f.y(0.0) - f.y(*v))
                            data-series=(s.name) data-value=(v) {
                            title { (s.name) ", " (labels[slot]) ": " (unit.label(*v)) }
                        }
                    }
                }
            }
        }
        (legend(series))
    }
}

/// Plain bars, one per label.
pub fn bars(title: &str, labels: &[String], values: &[Option<f64>], unit: Unit) -> Markup {
    let s = [Series {
        name: title.to_owned(),
        values: values.to_vec(),
    }];
    stacked(title, labels, &s, &["s0"], unit)
}

fn legend(series: &[Series]) -> Markup {
    html! {
        ul class="legend" {
            @for (k, s) in series.iter().enumerate() {
                li { svg width="12" height="12" aria-hidden="true" { rect class={ "s" (k % 5) } width="12" height="12" {} } " " (s.name) }
            }
        }
    }
}

/// Index ranges of consecutive present values.
fn runs(values: &[Option<f64>]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, v) in values.iter().enumerate() {
        match (v, start) {
            (Some(_), None) => start = Some(i),
            (None, Some(s)) => {
                out.push(s..i);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(s..values.len());
    }
    out
}

fn points(f: &Frame, values: &[Option<f64>], run: std::ops::Range<usize>) -> String {
    run.filter_map(|i| values[i].map(|v| format!("{:.1},{:.1}", f.x(i), f.y(v))))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_are_round() {
        assert_eq!(nice_max(2.0, Unit::Count), 4.0);
        assert_eq!(nice_max(9.0, Unit::Count), 12.0);
        assert_eq!(nice_max(2460.0, Unit::Seconds), 3600.0);
        assert_eq!(nice_max(0.0, Unit::Seconds), 240.0);
        assert_eq!(nice_max(50.0, Unit::Percent), 100.0);
    }

    #[test]
    fn gaps_break_lines() {
        assert_eq!(runs(&[Some(1.0), None, Some(2.0), Some(3.0)]), vec![0..1, 2..4]);
        assert!(runs(&[None, None]).is_empty());
    }

    #[test]
    fn units_read_as_people_say_them() {
        assert_eq!(Unit::Seconds.label(1800.0), "30 min");
        assert_eq!(Unit::Seconds.label(10_800.0), "3 h");
        assert_eq!(Unit::Percent.label(85.0), "85%");
    }

    #[test]
    fn user_text_in_a_chart_is_escaped() {
        let s = [Series {
            name: "<script>x</script>".into(),
            values: vec![Some(1.0)],
        }];
        let svg = lines("t", &["a".into()], &s, Unit::Count, &[]).into_string();
        assert!(!svg.contains("<script>"));
        assert!(svg.contains("&lt;script&gt;"));
    }
}
