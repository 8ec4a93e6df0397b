//! Tornado's `Locale.format_date` and `format_day`, with its English wording ("2 minutes ago",
//! "yesterday at 6:35 pm", "April 28, 2013 at 6:35 pm"), every phrase a translatable message.

use time::{Duration, OffsetDateTime, UtcOffset};

use super::{Locale, interpolate};

/// How [`Locale::format_date`] writes a date (Tornado's keyword arguments), built with
/// setters from [`DateFormat::new`].
///
/// ```
/// use cyclone_web::locale::{DateFormat, Locale};
/// use time::macros::datetime;
///
/// let english = Locale::untranslated("en_US");
/// let date = datetime!(2013-04-28 18:35 UTC);
/// assert_eq!(
///     english.format_date(date, &DateFormat::new().full_format(true)),
///     "April 28, 2013 at 6:35 pm"
/// );
/// let now = date + time::Duration::minutes(2);
/// assert_eq!(english.format_date(date, &DateFormat::new().now(now)), "2 minutes ago");
/// assert_eq!(
///     english.format_date(date, &DateFormat::new().now(now).relative(false).gmt_offset(-120)),
///     "8:35 pm"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateFormat {
    /// Minutes to subtract from UTC to get the reader's local time. Default 0.
    gmt_offset: i32,
    /// Say "2 minutes ago" for recent dates. Default on.
    relative: bool,
    /// Leave the time of day out ("yesterday", "Monday", "April 28"). Default off.
    shorter: bool,
    /// Always write the whole date ("April 28, 2013 at 6:35 pm"). Default off.
    full_format: bool,
    /// The moment relative dates are measured from; `None` is the clock's now.
    now: Option<OffsetDateTime>,
}

impl Default for DateFormat {
    fn default() -> Self {
        DateFormat {
            gmt_offset: 0,
            relative: true,
            shorter: false,
            full_format: false,
            now: None,
        }
    }
}

impl DateFormat {
    /// Tornado's defaults: relative, with the time of day, in UTC.
    pub fn new() -> Self {
        Self::default()
    }

    /// The reader's offset from UTC in minutes, as Tornado (and JavaScript's
    /// `getTimezoneOffset`) count it: UTC minus local time, so UTC+2 is `-120`. Default 0.
    pub fn gmt_offset(mut self, minutes: i32) -> Self {
        self.gmt_offset = minutes;
        self
    }

    /// Write recent dates as "3 minutes ago" and "yesterday". Default on.
    pub fn relative(mut self, relative: bool) -> Self {
        self.relative = relative;
        self
    }

    /// Leave out the time of day. Default off.
    pub fn shorter(mut self, shorter: bool) -> Self {
        self.shorter = shorter;
        self
    }

    /// Always write month, day and year. Default off.
    pub fn full_format(mut self, full_format: bool) -> Self {
        self.full_format = full_format;
        self
    }

    /// Measure relative dates from `now` instead of the clock (tests, pages rendered for a
    /// given moment). Default: the clock.
    pub fn now(mut self, now: OffsetDateTime) -> Self {
        self.now = Some(now);
        self
    }
}

/// Seconds in a day.
const DAY: i64 = 24 * 60 * 60;

impl Locale {
    /// Tornado's `format_date`: a past date as "1 second ago", "5 minutes ago", "2 hours
    /// ago", then "yesterday at 6:35 pm", "Monday at 6:35 pm" (within 5 days), "April 28 at
    /// 6:35 pm" (within 334 days), else "April 28, 2013 at 6:35 pm". With
    /// [`shorter`](DateFormat::shorter) the time of day is left out; without
    /// [`relative`](DateFormat::relative) today's dates are the time alone. A date more than a
    /// minute in the future is written whole (one less than a minute ahead, clock skew, is
    /// "now"). Times are `6:35 pm` in `en`/`en_US`, `下午6:35` in `zh_CN`, `18:35` elsewhere.
    pub fn format_date(&self, date: impl Into<OffsetDateTime>, format: &DateFormat) -> String {
        let mut date: OffsetDateTime = date.into();
        let now = format.now.unwrap_or_else(OffsetDateTime::now_utc);
        let mut full_format = format.full_format;
        if date > now {
            if format.relative && (date - now) < Duration::seconds(60) {
                date = now;
            } else {
                full_format = true;
            }
        }
        let local = to_local(date, format.gmt_offset);
        let local_now = to_local(now, format.gmt_offset);
        let local_yesterday = local_now - Duration::days(1);
        // Python's timedelta: whole days, and the seconds left over in [0, 86400).
        let difference = (now - date).whole_seconds();
        let days = difference.div_euclid(DAY);
        let seconds = difference.rem_euclid(DAY);

        let mut pattern = None;
        if !full_format {
            if format.relative && days == 0 {
                return self.relative_phrase(seconds);
            }
            let shorter = format.shorter;
            pattern = Some(if days == 0 {
                "%(time)s"
            } else if days == 1 && local.day() == local_yesterday.day() && format.relative {
                if shorter {
                    "yesterday"
                } else {
                    "yesterday at %(time)s"
                }
            } else if days < 5 {
                if shorter {
                    "%(weekday)s"
                } else {
                    "%(weekday)s at %(time)s"
                }
            } else if days < 334 {
                // 11 months: the same month last year would read as this year's.
                if shorter {
                    "%(month_name)s %(day)s"
                } else {
                    "%(month_name)s %(day)s at %(time)s"
                }
            } else {
                ""
            })
            .filter(|pattern| !pattern.is_empty());
        }
        let pattern = pattern.unwrap_or(if format.shorter {
            "%(month_name)s %(day)s, %(year)s"
        } else {
            "%(month_name)s %(day)s, %(year)s at %(time)s"
        });
        let time = self.time_of_day(local);
        interpolate(
            &self.translate(pattern),
            &[
                ("month_name", &self.month_name(local)),
                ("weekday", &self.weekday_name(local)),
                ("day", &local.day()),
                ("year", &local.year()),
                ("time", &time),
            ],
        )
    }

    /// Tornado's `format_day`: "Sunday, April 28", or without the day of the week
    /// (`day_of_week` false) "April 28", in the reader's time (`gmt_offset` as
    /// [`DateFormat::gmt_offset`]).
    ///
    /// ```
    /// use cyclone_web::locale::Locale;
    /// use time::macros::datetime;
    ///
    /// let english = Locale::untranslated("en_US");
    /// assert_eq!(english.format_day(datetime!(2013-04-28 18:35 UTC), 0, true), "Sunday, April 28");
    /// assert_eq!(english.format_day(datetime!(2013-04-28 18:35 UTC), 0, false), "April 28");
    /// ```
    pub fn format_day(
        &self,
        date: impl Into<OffsetDateTime>,
        gmt_offset: i32,
        day_of_week: bool,
    ) -> String {
        let local = to_local(date.into(), gmt_offset);
        let pattern = if day_of_week {
            "%(weekday)s, %(month_name)s %(day)s"
        } else {
            "%(month_name)s %(day)s"
        };
        interpolate(
            &self.translate(pattern),
            &[
                ("month_name", &self.month_name(local)),
                ("weekday", &self.weekday_name(local)),
                ("day", &local.day()),
            ],
        )
    }

    /// "1 second ago" .. "23 hours ago", for a date less than a day old.
    fn relative_phrase(&self, seconds: i64) -> String {
        // Python's round(): halves go to the even neighbour.
        let rounded = |unit: f64| (seconds as f64 / unit).round_ties_even() as i64;
        let (singular, plural, name, count) = if seconds < 50 {
            (
                "1 second ago",
                "%(seconds)d seconds ago",
                "seconds",
                seconds,
            )
        } else if seconds < 50 * 60 {
            (
                "1 minute ago",
                "%(minutes)d minutes ago",
                "minutes",
                rounded(60.0),
            )
        } else {
            (
                "1 hour ago",
                "%(hours)d hours ago",
                "hours",
                rounded(3600.0),
            )
        };
        let message = self.translate_plural(singular, plural, count.unsigned_abs());
        interpolate(&message, &[(name, &count)])
    }

    /// The time of day as the locale writes it.
    fn time_of_day(&self, local: OffsetDateTime) -> String {
        let (hour, minute) = (local.hour(), local.minute());
        let twelve = match hour % 12 {
            0 => 12,
            hour => hour,
        };
        match self.code() {
            "en" | "en_US" => {
                format!(
                    "{twelve}:{minute:02} {}",
                    if hour >= 12 { "pm" } else { "am" }
                )
            }
            "zh_CN" => format!(
                "{}{twelve}:{minute:02}",
                if hour >= 12 {
                    "\u{4e0b}\u{5348}"
                } else {
                    "\u{4e0a}\u{5348}"
                }
            ),
            _ => format!("{hour}:{minute:02}"),
        }
    }

    /// The translated month of `local`.
    fn month_name(&self, local: OffsetDateTime) -> &str {
        &self.0.months[usize::from(u8::from(local.month())) - 1]
    }

    /// The translated weekday of `local`.
    fn weekday_name(&self, local: OffsetDateTime) -> &str {
        &self.0.weekdays[usize::from(local.weekday().number_days_from_monday())]
    }
}

/// `date` in the reader's time: `gmt_offset` minutes subtracted from UTC.
fn to_local(date: OffsetDateTime, gmt_offset: i32) -> OffsetDateTime {
    let utc = date.to_offset(UtcOffset::UTC);
    utc - Duration::minutes(i64::from(gmt_offset))
}
