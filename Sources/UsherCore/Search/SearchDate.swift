import Foundation

extension UserSearchQuery {
    /// An ISO-8601 date or date-time as used in search values, read as the period it names.
    ///
    /// `2024` is the whole year, `2024-03` the month, `2024-03-05` the day, `2024-03-05T10:20` the minute,
    /// and so on down to fractions of a second. Times without a zone are UTC. Instants are microseconds since
    /// 1970-01-01T00:00:00Z; `end` is exclusive.
    ///
    /// Range bounds use the period: `[D TO …` includes `D` from its start, `{D TO …` starts after `D` ends,
    /// `… TO D]` includes the whole of `D`, `… TO D}` stops before `D` starts. So `updated_at:{2018-01-15 TO *]`
    /// means "after 15 January", and `last_login:[* TO 2017-12]` includes all of December 2017.
    public struct SearchDate: Sendable, Hashable {
        public enum Precision: Int, Sendable, Hashable, Comparable {
            case year, month, day, hour, minute, second, fraction

            public static func < (lhs: Precision, rhs: Precision) -> Bool { lhs.rawValue < rhs.rawValue }
        }

        /// First instant of the period (µs since the epoch).
        public let start: Int64
        /// First instant after the period (µs since the epoch).
        public let end: Int64
        public let precision: Precision

        public var startDate: Date { Date(timeIntervalSince1970: Double(start) / 1_000_000) }
        public var endDate: Date { Date(timeIntervalSince1970: Double(end) / 1_000_000) }

        /// Parses `YYYY[-MM[-DD[(T|t| )hh[:mm[:ss[.f…]]][Z|±hh[:mm]|±hhmm]]]]`; years 0000–9999. Nil otherwise.
        public init?(iso8601 text: String) {
            let c = Array(text.utf8)
            var i = 0
            func number(_ width: Int) -> Int64? {
                guard i + width <= c.count else { return nil }
                var value: Int64 = 0
                for k in i..<(i + width) {
                    let d = c[k]
                    guard d >= 48, d <= 57 else { return nil }
                    value = value * 10 + Int64(d - 48)
                }
                i += width
                return value
            }
            func take(_ byte: UInt8) -> Bool {
                if i < c.count, c[i] == byte {
                    i += 1
                    return true
                }
                return false
            }

            guard let year = number(4) else { return nil }
            var month: Int64 = 1
            var day: Int64 = 1
            var hour: Int64 = 0
            var minute: Int64 = 0
            var second: Int64 = 0
            var micros: Int64 = 0
            var fractionStep: Int64 = 1
            var precision = Precision.year
            var offsetSeconds: Int64 = 0

            if take(45) {  // -
                guard let m = number(2), (1...12).contains(m) else { return nil }
                month = m
                precision = .month
                if take(45) {
                    guard let d = number(2), d >= 1, d <= SearchDate.daysIn(month: m, year: year) else { return nil }
                    day = d
                    precision = .day
                    if i < c.count, c[i] == 84 || c[i] == 116 || c[i] == 32 {  // T t space
                        i += 1
                        guard let h = number(2), h <= 23 else { return nil }
                        hour = h
                        precision = .hour
                        if take(58) {  // :
                            guard let mi = number(2), mi <= 59 else { return nil }
                            minute = mi
                            precision = .minute
                            if take(58) {
                                guard let s = number(2), s <= 60 else { return nil }
                                second = min(s, 59)
                                precision = .second
                                if i < c.count, c[i] == 46 || c[i] == 44 {  // . or ,
                                    i += 1
                                    var digits = 0
                                    var value: Int64 = 0
                                    while i < c.count, c[i] >= 48, c[i] <= 57 {
                                        if digits < 6 { value = value * 10 + Int64(c[i] - 48) }
                                        digits += 1
                                        i += 1
                                    }
                                    guard digits > 0 else { return nil }
                                    var scale: Int64 = 1
                                    for _ in 0..<max(0, 6 - digits) { scale *= 10 }
                                    micros = value * scale
                                    fractionStep = scale
                                    precision = .fraction
                                }
                            }
                        }
                        // Zone designator, only after a time.
                        if take(90) || take(122) {  // Z z
                        } else if i < c.count, c[i] == 43 || c[i] == 45 {  // + -
                            let sign: Int64 = c[i] == 45 ? -1 : 1
                            i += 1
                            guard let oh = number(2), oh <= 23 else { return nil }
                            var om: Int64 = 0
                            if take(58) {
                                guard let m = number(2), m <= 59 else { return nil }
                                om = m
                            } else if i < c.count {
                                guard let m = number(2), m <= 59 else { return nil }
                                om = m
                            }
                            offsetSeconds = sign * (oh * 3600 + om * 60)
                        }
                    }
                }
            }
            guard i == c.count else { return nil }

            let days = SearchDate.daysFromCivil(year: year, month: month, day: day)
            let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offsetSeconds
            let start = seconds * 1_000_000 + micros
            let end: Int64
            switch precision {
            case .year:
                end = SearchDate.daysFromCivil(year: year + 1, month: 1, day: 1) * 86_400 * 1_000_000
            case .month:
                let (ny, nm) = month == 12 ? (year + 1, Int64(1)) : (year, month + 1)
                end = SearchDate.daysFromCivil(year: ny, month: nm, day: 1) * 86_400 * 1_000_000
            case .day: end = start + 86_400 * 1_000_000
            case .hour: end = start + 3_600 * 1_000_000
            case .minute: end = start + 60 * 1_000_000
            case .second: end = start + 1_000_000
            case .fraction: end = start + fractionStep
            }
            self.start = start
            self.end = end
            self.precision = precision
        }

        static func isLeap(_ year: Int64) -> Bool { (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 }

        static func daysIn(month: Int64, year: Int64) -> Int64 {
            switch month {
            case 2: return isLeap(year) ? 29 : 28
            case 4, 6, 9, 11: return 30
            default: return 31
            }
        }

        /// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
        static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
            let y = month <= 2 ? year - 1 : year
            let era = (y >= 0 ? y : y - 399) / 400
            let yoe = y - era * 400
            let mp = (month + 9) % 12
            let doy = (153 * mp + 2) / 5 + day - 1
            let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
            return era * 146_097 + doe - 719_468
        }
    }
}
