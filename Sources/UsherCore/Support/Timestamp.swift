import Foundation

/// ISO-8601 timestamps as Auth0 writes them: UTC with milliseconds (`2024-05-01T12:34:56.789Z`).
public enum Timestamp {
    /// Formats `date` as Auth0 does.
    public static func iso8601(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
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
