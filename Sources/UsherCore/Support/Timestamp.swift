import Foundation

/// ISO-8601 timestamps as Auth0 writes them: UTC with milliseconds (`2024-05-01T12:34:56.789Z`).
public enum Timestamp {
    /// Formats `date` as Auth0 does.
    ///
    /// Digits are written by hand: Foundation's `ISO8601FormatStyle` was a tenth of a user read. The output is
    /// identical to `date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))`, including how it
    /// truncates the milliseconds of the seconds since 2001 (a stored `…234` ms can print as `.233`); dates before
    /// 1970 or after 9999 go to Foundation.
    public static func iso8601(_ date: Date) -> String {
        let sinceReference = date.timeIntervalSinceReferenceDate
        let seconds = sinceReference.rounded(.down)
        guard seconds >= -978_307_200, seconds < 253_402_300_800 - 978_307_200 else {
            return date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        }
        let unixSeconds = Int(seconds) + 978_307_200
        let millisecond = min(999, Int(((sinceReference - seconds) * 1000).rounded(.down)))
        var days = unixSeconds / 86_400
        let secondOfDay = unixSeconds - days * 86_400
        // Civil date from days since 1970-01-01 (H. Hinnant's algorithm, non-negative days only).
        days += 719_468
        let era = days / 146_097
        let dayOfEra = days - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return String(unsafeUninitializedCapacity: 24) { buffer in
            func put(_ value: Int, _ width: Int, at end: Int) {
                var value = value
                for index in stride(from: end - 1, through: end - width, by: -1) {
                    buffer[index] = UInt8(truncatingIfNeeded: 0x30 + value % 10)
                    value /= 10
                }
            }
            put(year, 4, at: 4)
            buffer[4] = UInt8(ascii: "-")
            put(month, 2, at: 7)
            buffer[7] = UInt8(ascii: "-")
            put(day, 2, at: 10)
            buffer[10] = UInt8(ascii: "T")
            put(secondOfDay / 3_600, 2, at: 13)
            buffer[13] = UInt8(ascii: ":")
            put(secondOfDay / 60 % 60, 2, at: 16)
            buffer[16] = UInt8(ascii: ":")
            put(secondOfDay % 60, 2, at: 19)
            buffer[19] = UInt8(ascii: ".")
            put(millisecond, 3, at: 23)
            buffer[23] = UInt8(ascii: "Z")
            return 24
        }
    }

    /// Parses ISO-8601 with or without fractional seconds.
    public static func parse(_ text: String) -> Date? {
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        return try? Date.ISO8601FormatStyle().parse(text)
    }

    /// Milliseconds since the Unix epoch: how timestamps are stored (identical and sortable on SQLite and PostgreSQL).
    public static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    public static func date(milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }
}
