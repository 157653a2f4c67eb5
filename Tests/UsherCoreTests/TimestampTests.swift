import Foundation
import Testing
import UsherCore

@Suite("Timestamp")
struct TimestampTests {
    static let foundation = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    @Test func formatsLikeFoundation() {
        #expect(Timestamp.iso8601(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(
            Timestamp.iso8601(Timestamp.date(milliseconds: 1_795_921_413_123)) == Timestamp.date(milliseconds: 1_795_921_413_123).formatted(Self.foundation))
        var generator = SystemRandomNumberGenerator()
        for n in 0..<50_000 {
            let date =
                switch n % 3 {
                case 0: Timestamp.date(milliseconds: Int64.random(in: 0...4_102_444_800_000, using: &generator))  // as stored
                case 1: Date(timeIntervalSince1970: Double.random(in: 0...4_102_444_800, using: &generator))
                default: Date(timeIntervalSince1970: Double.random(in: 0...253_402_300_799.999, using: &generator))  // up to 9999
                }
            let expected = date.formatted(Self.foundation)
            #expect(Timestamp.iso8601(date) == expected, "\(date.timeIntervalSince1970)")
            if Timestamp.iso8601(date) != expected { return }
        }
    }

    @Test func outOfRangeDatesGoToFoundation() {
        for date in [Date(timeIntervalSince1970: -1), Date(timeIntervalSince1970: -12_219_292_800.5), Date(timeIntervalSince1970: 253_402_300_800)] {
            #expect(Timestamp.iso8601(date) == date.formatted(Self.foundation))
        }
    }
}
