//! `Rollups`: one report per day.

use crate::check::{ensure_eq, Ctx, Outcome};
use crate::Adapter;
use leadclock_app::ports::Rollups;

/// `save_rollup` replaces an earlier report of the same day and leaves other days alone.
pub async fn save_rollup_replaces_the_days_report<A: Adapter>(cx: Ctx<A>) -> Outcome {
    let (day, other_day) = (cx.day(0)?, cx.day(1)?);
    let report = |run: u32| format!(r#"{{"day":"{day}","run":{run},"overall":{{"volume":{{"mqls":{run}}}}}}}"#);
    let other = format!(r#"{{"day":"{other_day}","run":1}}"#);
    cx.store.save_rollup(&day, &report(1)).await?;
    cx.store.save_rollup(&other_day, &other).await?;
    cx.store.save_rollup(&day, &report(2)).await?;
    ensure_eq("report of the day run twice", cx.rollup(&day).await?, Some(report(2)))?;
    ensure_eq("report of the other day", cx.rollup(&other_day).await?, Some(other))
}
