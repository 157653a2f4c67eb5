import Foundation

/// The `date` filter: Ruby Liquid's `Utils.to_date` (timestamps, `now`/`today`, and date strings
/// read like Ruby's `Time.parse`) and Ruby's `Time#strftime`, in the environment's time zone and
/// with the environment's clock.
enum RubyTime {
    /// A moment broken down in a time zone.
    struct Moment {
        var epoch: Int
        var nanoseconds: Int = 0
        var offset: Int
        var zoneName: String
        var year: Int
        var month: Int
        var day: Int
        var hour: Int
        var minute: Int
        var second: Int
        var weekday: Int  // 0 = Sunday
        var yearDay: Int  // 1-based
    }

    static func dateFilter(_ input: LiquidValue, _ format: LiquidValue, _ ctx: inout LiquidRenderContext) throws
        -> LiquidValue
    {
        let fmt = LiquidValue.toS(format)
        if fmt.isEmpty { return input }
        guard let moment = toMoment(input, ctx.environment) else { return input }
        let out = strftime(moment, fmt)
        try ctx.chargeAllocation(out.utf8.count)
        return .string(out)
    }

    static func toMoment(_ input: LiquidValue, _ env: LiquidEnvironment) -> Moment? {
        switch input {
        case .int(let i): return moment(epoch: i, nanos: 0, env.timeZone)
        case .string(let raw), .safe(let raw):
            if raw.isEmpty { return nil }
            let s = raw.lowercased()
            if s == "now" || s == "today" {
                let t = env.now().timeIntervalSince1970
                guard t.isFinite, abs(t) < 1e15 else { return nil }
                let secs = Int(t.rounded(.down))
                return moment(epoch: secs, nanos: Int(((t - Double(secs)) * 1e9).rounded(.down)), env.timeZone)
            }
            if s.utf8.allSatisfy(isDigit) {
                guard let i = Int(s) else { return nil }
                return moment(epoch: i, nanos: 0, env.timeZone)
            }
            return parse(s, env)
        default: return nil
        }
    }

    // MARK: - Calendar arithmetic (proleptic Gregorian, no Foundation calendar needed)

    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (m + 9) % 12
        let doy = (153 * mp + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }

    static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    static func daysInMonth(_ y: Int, _ m: Int) -> Int {
        switch m {
        case 2: return isLeap(y) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Seconds east of UTC and the zone's abbreviation at `epoch`.
    static func zoneInfo(_ tz: TimeZone, _ epoch: Int) -> (Int, String) {
        if tz.identifier == "UTC" || tz.identifier == "GMT" { return (0, "UTC") }
        let date = Date(timeIntervalSince1970: TimeInterval(epoch))
        return (tz.secondsFromGMT(for: date), tz.abbreviation(for: date) ?? tz.identifier)
    }

    static func moment(epoch: Int, nanos: Int, _ tz: TimeZone) -> Moment? {
        // Stay well inside the range where the arithmetic below cannot overflow.
        guard epoch > -(1 << 50), epoch < 1 << 50 else { return nil }
        let (offset, name) = zoneInfo(tz, epoch)
        return moment(epoch: epoch, nanos: nanos, offset: offset, zoneName: name)
    }

    static func moment(epoch: Int, nanos: Int, offset: Int, zoneName: String) -> Moment {
        let local = epoch + offset
        let days = local >= 0 ? local / 86400 : -((-local + 86399) / 86400)
        let secs = local - days * 86400
        let (y, m, d) = civilFromDays(days)
        let weekday = ((days % 7) + 11) % 7  // 1970-01-01 was a Thursday
        let yearDay = days - daysFromCivil(y, 1, 1) + 1
        return Moment(
            epoch: epoch, nanoseconds: nanos, offset: offset, zoneName: zoneName, year: y, month: m, day: d,
            hour: secs / 3600, minute: secs % 3600 / 60, second: secs % 60, weekday: weekday, yearDay: yearDay)
    }

    // MARK: - Parsing (the common shapes Ruby's Time.parse accepts)

    static let monthNames = [
        "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
        "november", "december",
    ]
    static let dayNames = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]

    enum Piece: Equatable {
        case number(Int, digits: Int)
        case word(String)
        case time(Int, Int, Int, Int)  // hour, minute, second, nanos
        case zone(Int)
        case separator(Character)
    }

    /// Reads dates such as `2024-02-29T10:05:00Z`, `2016/03/14`, `14/03/2016`, `March 14, 2016`,
    /// `14 Mar 2016 3pm`, `Tue, 14 Mar 2016 10:00:00 +0100`. Zone-less times are in `env.timeZone`.
    static func parse(_ s: String, _ env: LiquidEnvironment) -> Moment? {
        guard s.utf8.count <= 200, let pieces = tokenize(s) else { return nil }
        var year: Int?
        var month: Int?
        var day: Int?
        var time: (Int, Int, Int, Int)?
        var zone: Int?
        var numbers: [(Int, Int)] = []
        var idx = 0
        var pendingMeridian: String?
        while idx < pieces.count {
            let p = pieces[idx]
            switch p {
            case .time(let h, let m, let sec, let n): time = (h, m, sec, n)
            case .zone(let z): zone = z
            case .word(let w):
                if let mi = monthIndex(w) {
                    month = mi
                } else if dayNames.contains(where: { $0.hasPrefix(w) && w.count >= 3 }) {
                    break
                } else if w == "am" || w == "pm" {
                    pendingMeridian = w
                } else if w == "utc" || w == "gmt" || w == "z" {
                    zone = 0
                } else if w == "t" {
                    break
                } else if let z = zoneAbbreviation(w) {
                    zone = z
                } else {
                    return nil
                }
            case .number(let v, let digits):
                // `3pm`: a bare hour followed by am/pm.
                if idx + 1 < pieces.count, case .word(let w) = pieces[idx + 1], w == "am" || w == "pm", digits <= 2 {
                    time = (v, 0, 0, 0)
                } else {
                    numbers.append((v, digits))
                }
            case .separator: break
            }
            idx += 1
        }
        if let meridian = pendingMeridian, var t = time {
            guard t.0 >= 1 && t.0 <= 12 else { return nil }
            if meridian == "pm" && t.0 < 12 { t.0 += 12 }
            if meridian == "am" && t.0 == 12 { t.0 = 0 }
            time = t
        }
        let slashed = pieces.contains(.separator("/"))
        let dashed = pieces.contains(.separator("-"))
        if month != nil {
            // Month given by name: a 3+ digit number is the year, a 1–2 digit one the day.
            for (v, digits) in numbers {
                if digits >= 3, year == nil {
                    year = v
                } else if day == nil, digits <= 2 {
                    day = v
                } else if year == nil {
                    year = v
                }
            }
        } else if numbers.count >= 3 {
            let (a, ad) = numbers[0]
            let (b, _) = numbers[1]
            let (c, cd) = numbers[2]
            if ad >= 3 || dashed {
                (year, month, day) = (a, b, c)
            } else if slashed && cd >= 3 {
                (day, month, year) = (a, b, c)
            } else if slashed {
                (year, month, day) = (a < 100 ? a + (a >= 69 ? 1900 : 2000) : a, b, c)
            } else {
                return nil
            }
        } else if numbers.isEmpty, time != nil {
            let today = toMoment(.string("now"), env)
            (year, month, day) = (today?.year, today?.month, today?.day)
        } else {
            return nil
        }
        if let y = year, numbers.first(where: { $0.0 == y })?.1 == 2, y < 100 { year = y + (y >= 69 ? 1900 : 2000) }
        let resolvedDay = day ?? 1
        guard let y = year, let m = month, m >= 1, m <= 12, resolvedDay >= 1,
            resolvedDay <= daysInMonth(y, m), y > -1_000_000, y < 1_000_000
        else { return nil }
        let (h, mi, sec, nanos) = time ?? (0, 0, 0, 0)
        guard h >= 0, h <= 24, mi >= 0, mi < 60, sec >= 0, sec <= 60 else { return nil }
        let localSeconds = daysFromCivil(y, m, resolvedDay) * 86400 + h * 3600 + mi * 60 + sec
        if let zone {
            return moment(epoch: localSeconds - zone, nanos: nanos, offset: zone, zoneName: zoneLabel(zone))
        }
        // Local time in the environment's zone: guess the offset, then correct it once (DST edges).
        let guess = zoneInfo(env.timeZone, localSeconds).0
        let offset = zoneInfo(env.timeZone, localSeconds - guess).0
        return moment(epoch: localSeconds - offset, nanos: nanos, env.timeZone)
    }

    static func zoneLabel(_ offset: Int) -> String {
        if offset == 0 { return "UTC" }
        return ""
    }

    static func zoneAbbreviation(_ w: String) -> Int? {
        switch w {
        case "est": return -5 * 3600
        case "edt": return -4 * 3600
        case "cst": return -6 * 3600
        case "cdt": return -5 * 3600
        case "mst": return -7 * 3600
        case "mdt": return -6 * 3600
        case "pst": return -8 * 3600
        case "pdt": return -7 * 3600
        case "bst": return 3600
        case "cet": return 3600
        case "cest": return 2 * 3600
        default: return nil
        }
    }

    /// A month name or an abbreviation of at least three letters ("mar", "sept").
    static func monthIndex(_ w: String) -> Int? {
        guard w.count >= 3 else { return nil }
        for (i, name) in monthNames.enumerated() where name.hasPrefix(w) { return i + 1 }
        return nil
    }

    static func tokenize(_ s: String) -> [Piece]? {
        let b = Array(s.utf8)
        var pieces: [Piece] = []
        var i = 0
        func readNumber(_ from: Int) -> (Int, Int, Int) {
            var j = from
            var v = 0
            while j < b.count, isDigit(b[j]) {
                if j - from < 18 { v = v * 10 + Int(b[j] - 48) }
                j += 1
            }
            return (v, j - from, j)
        }
        while i < b.count {
            let c = b[i]
            if isDigit(c) {
                let (v, digits, next) = readNumber(i)
                // hh:mm[:ss[.fff]]
                if next < b.count, b[next] == UInt8(ascii: ":"), digits <= 2, next + 1 < b.count, isDigit(b[next + 1]) {
                    let (mi, _, afterMinutes) = readNumber(next + 1)
                    var sec = 0
                    var nanos = 0
                    var j = afterMinutes
                    if j + 1 < b.count, b[j] == UInt8(ascii: ":"), isDigit(b[j + 1]) {
                        let r = readNumber(j + 1)
                        sec = r.0
                        j = r.2
                        if j + 1 < b.count, b[j] == UInt8(ascii: ".") || b[j] == UInt8(ascii: ","), isDigit(b[j + 1]) {
                            let f = readNumber(j + 1)
                            var scaled = f.0
                            var d = min(f.1, 18)
                            while d < 9 {
                                scaled *= 10
                                d += 1
                            }
                            while d > 9 {
                                scaled /= 10
                                d -= 1
                            }
                            nanos = scaled
                            j = f.2
                        }
                    }
                    pieces.append(.time(v, mi, sec, nanos))
                    i = j
                    continue
                }
                pieces.append(.number(v, digits: digits))
                i = next
                // Ordinal suffixes: 1st 2nd 3rd 4th.
                if i + 1 < b.count {
                    let suffix = String(decoding: b[i..<(i + 2)], as: UTF8.self)
                    if ["st", "nd", "rd", "th"].contains(suffix), i + 2 >= b.count || !isLetter(b[i + 2]) { i += 2 }
                }
                continue
            }
            if c == UInt8(ascii: "+") || c == UInt8(ascii: "-"), !pieces.isEmpty, i + 1 < b.count, isDigit(b[i + 1]),
                pieces.contains(where: { if case .time = $0 { return true } else { return false } })
            {
                // Zone offset after a time: +0100, -05:00, +01
                var j = i + 1
                var digits: [UInt8] = []
                while j < b.count, isDigit(b[j]) || (b[j] == UInt8(ascii: ":") && digits.count == 2) {
                    if isDigit(b[j]) { digits.append(b[j]) }
                    j += 1
                }
                guard digits.count == 2 || digits.count == 4 else { return nil }
                let hh = Int(digits[0] - 48) * 10 + Int(digits[1] - 48)
                let mm = digits.count == 4 ? Int(digits[2] - 48) * 10 + Int(digits[3] - 48) : 0
                let sign = c == UInt8(ascii: "-") ? -1 : 1
                pieces.append(.zone(sign * (hh * 3600 + mm * 60)))
                i = j
                continue
            }
            if isLetter(c) {
                var j = i
                while j < b.count, isLetter(b[j]) { j += 1 }
                let word = String(decoding: b[i..<j], as: UTF8.self)
                if j < b.count, b[j] == UInt8(ascii: ".") { j += 1 }
                pieces.append(.word(word))
                i = j
                continue
            }
            switch c {
            case UInt8(ascii: "/"), UInt8(ascii: "-"), UInt8(ascii: "."):
                pieces.append(.separator(Character(Unicode.Scalar(c))))
            case UInt8(ascii: " "), UInt8(ascii: ","), UInt8(ascii: "\t"), UInt8(ascii: "\n"): break
            default: return nil
            }
            i += 1
        }
        return pieces
    }

    private static func isLetter(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
    }

    // MARK: - strftime

    static let shortDays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let longDays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    static let shortMonths = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    static let longMonths = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
        "November", "December",
    ]

    /// Ruby's `Time#strftime`, including the `-` `_` `0` `^` `#` flags and field widths.
    static func strftime(_ t: Moment, _ format: String) -> String {
        let f = Array(format.unicodeScalars)
        var out = ""
        var i = 0
        while i < f.count {
            let c = f[i]
            guard c == "%", i + 1 < f.count else {
                out.unicodeScalars.append(c)
                i += 1
                continue
            }
            let start = i
            i += 1
            var padding: Character?
            var upper = false
            var swapCase = false
            var colons = 0
            flags: while i < f.count {
                switch f[i] {
                case "-": padding = "\u{0}"
                case "_": padding = " "
                case "0": padding = "0"
                case "^": upper = true
                case "#": swapCase = true
                default: break flags
                }
                i += 1
            }
            var width: Int?
            while i < f.count, f[i].value >= 48, f[i].value <= 57 {
                width = min((width ?? 0) * 10 + Int(f[i].value - 48), 1024)
                i += 1
            }
            while i < f.count, f[i] == ":" {
                colons += 1
                i += 1
            }
            guard i < f.count else {
                out += String(String.UnicodeScalarView(f[start..<f.count]))
                break
            }
            let directive = f[i]
            i += 1

            func number(_ v: Int, _ defaultWidth: Int, _ defaultPad: Character = "0") -> String {
                let pad = padding ?? defaultPad
                let w = width ?? defaultWidth
                let negative = v < 0
                var digits = String(negative ? 0 &- v : v)
                if negative && v == .min { digits = String(v).dropFirst().description }
                if pad != "\u{0}" && digits.count + (negative ? 1 : 0) < w {
                    let fill = String(repeating: pad, count: w - digits.count - (negative ? 1 : 0))
                    return pad == "0" ? (negative ? "-" : "") + fill + digits : fill + (negative ? "-" : "") + digits
                }
                return (negative ? "-" : "") + digits
            }
            func text(_ s: String, lowerOnSwap: Bool = false) -> String {
                var r = s
                if upper { r = r.uppercased() }
                if swapCase { r = lowerOnSwap ? r.lowercased() : r.uppercased() }
                if let w = width, r.count < w {
                    let pad = padding == "0" ? "0" : " "
                    r = String(repeating: pad, count: w - r.count) + r
                }
                return r
            }
            let hour12 = t.hour % 12 == 0 ? 12 : t.hour % 12
            switch directive {
            case "Y":
                out += number(t.year, 4)
            case "C": out += number(floorDiv(t.year, 100), 2)
            case "y": out += number(((t.year % 100) + 100) % 100, 2)
            case "m": out += number(t.month, 2)
            case "d": out += number(t.day, 2)
            case "e": out += number(t.day, 2, " ")
            case "j": out += number(t.yearDay, 3)
            case "H": out += number(t.hour, 2)
            case "k": out += number(t.hour, 2, " ")
            case "I": out += number(hour12, 2)
            case "l": out += number(hour12, 2, " ")
            case "M": out += number(t.minute, 2)
            case "S": out += number(t.second, 2)
            case "L", "N":
                let digits = width ?? (directive == "L" ? 3 : 9)
                var frac = String(t.nanoseconds)
                frac = String(repeating: "0", count: max(0, 9 - frac.count)) + frac
                if digits <= 9 {
                    out += String(frac.prefix(digits))
                } else {
                    out += frac + String(repeating: "0", count: digits - 9)
                }
            case "z":
                let sign = t.offset < 0 ? "-" : "+"
                let a = abs(t.offset)
                let hh = a / 3600
                let mm = a % 3600 / 60
                let ss = a % 60
                func two(_ v: Int) -> String { v < 10 ? "0\(v)" : String(v) }
                switch colons {
                case 0: out += sign + two(hh) + two(mm)
                case 1: out += sign + two(hh) + ":" + two(mm)
                default: out += sign + two(hh) + ":" + two(mm) + ":" + two(ss)
                }
            case "Z": out += text(t.zoneName.isEmpty ? "" : t.zoneName, lowerOnSwap: true)
            case "A": out += text(longDays[t.weekday])
            case "a": out += text(shortDays[t.weekday])
            case "B": out += text(longMonths[t.month - 1])
            case "b", "h": out += text(shortMonths[t.month - 1])
            case "p": out += text(t.hour < 12 ? "AM" : "PM", lowerOnSwap: true)
            case "P": out += text(t.hour < 12 ? "am" : "pm")
            case "u": out += number(t.weekday == 0 ? 7 : t.weekday, 1)
            case "w": out += number(t.weekday, 1)
            case "U": out += number((t.yearDay - 1 + 7 - t.weekday) / 7, 2)
            case "W": out += number((t.yearDay - 1 + 7 - ((t.weekday + 6) % 7)) / 7, 2)
            case "G": out += number(isoWeek(t).year, 4)
            case "g": out += number(((isoWeek(t).year % 100) + 100) % 100, 2)
            case "V": out += number(isoWeek(t).week, 2)
            case "s": out += number(t.epoch, 1)
            case "n": out += "\n"
            case "t": out += "\t"
            case "%": out += "%"
            case "c": out += text(strftime(t, "%a %b %e %H:%M:%S %Y"))
            case "D", "x": out += text(strftime(t, "%m/%d/%y"))
            case "F": out += text(strftime(t, "%Y-%m-%d"))
            case "T", "X": out += text(strftime(t, "%H:%M:%S"))
            case "R": out += text(strftime(t, "%H:%M"))
            case "r": out += text(strftime(t, "%I:%M:%S %p"))
            case "v": out += text(strftime(t, "%e-%^b-%4Y"))
            default:
                // Unknown directives are copied through, as Ruby does.
                out += String(String.UnicodeScalarView(f[start..<i]))
            }
        }
        return out
    }

    static func floorDiv(_ a: Int, _ b: Int) -> Int {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// ISO 8601 week number and week-based year.
    static func isoWeek(_ t: Moment) -> (year: Int, week: Int) {
        let isoWeekday = t.weekday == 0 ? 7 : t.weekday
        let thursdayOrdinal = t.yearDay - isoWeekday + 4
        if thursdayOrdinal < 1 {
            let prevYear = t.year - 1
            let daysPrev = isLeap(prevYear) ? 366 : 365
            return (prevYear, (thursdayOrdinal + daysPrev - 1) / 7 + 1)
        }
        let daysThis = isLeap(t.year) ? 366 : 365
        if thursdayOrdinal > daysThis { return (t.year + 1, 1) }
        return (t.year, (thursdayOrdinal - 1) / 7 + 1)
    }
}
