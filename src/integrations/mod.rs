//! Other agent platforms' event models, built on the center: decision hooks
//! (Minded), session transcripts (Wayfound) and Datalake records (Weni). One
//! module per concept; the ones that are mappings to one platform's records
//! sit behind that platform's feature. Scoped capture (Weni) and typed events
//! (Smallest.ai Atoms) are on every emit path, so they are core modules:
//! `crate::capture` and `crate::typed`.

/// The old path of `crate::capture`, still used by the tracing bridge.
#[cfg(feature = "tracing")]
pub(crate) use crate::capture;
pub(crate) mod decision;
#[cfg(feature = "wayfound")]
pub(crate) mod wayfound;
#[cfg(feature = "weni")]
pub(crate) mod weni;

/// Formats Unix milliseconds as ISO-8601 UTC with millisecond precision and
/// a `Z` suffix (`2026-12-01T11:49:51.123Z`), whatever the process time
/// zone. Milliseconds before 1970 are clamped to the epoch.
#[allow(dead_code)] // used by the platform mappings behind their features
pub(crate) fn iso8601_utc(millis: i64) -> String {
    let millis = millis.max(0);
    let (secs, ms) = (millis / 1000, millis % 1000);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Year, month and day of the `days`-th day after 1970-01-01 (Howard
/// Hinnant's `civil_from_days`, proleptic Gregorian calendar).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::iso8601_utc;

    #[test]
    fn formats_known_instants() {
        assert_eq!(iso8601_utc(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601_utc(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601_utc(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(iso8601_utc(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
        assert_eq!(iso8601_utc(-5), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn agrees_with_the_calendar_day_by_day() {
        // Walk 200 years day by day, counting the calendar by hand.
        let (mut y, mut m, mut d) = (1970i64, 1u32, 1u32);
        for day in 0..73_000i64 {
            let expected = format!("{y:04}-{m:02}-{d:02}T00:00:00.000Z");
            assert_eq!(iso8601_utc(day * 86_400_000), expected);
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let feb = if leap { 29 } else { 28 };
            let len = [31, feb, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m as usize - 1];
            d += 1;
            if d > len {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }
}
