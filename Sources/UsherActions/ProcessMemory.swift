#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Resident set size of a process, read from `/proc/PID/statm`.
///
/// JavaScriptCore has no heap cap, so memory is bounded by watching RSS: the worker polls its own from the
/// watchdog slice, the pool polls each worker's from outside. This is read with raw `open`/`read` into a
/// stack buffer because the worker calls it every few milliseconds while JavaScript runs, possibly while
/// the heap is being bombed, and must not allocate.
enum ProcessMemory {
    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// RSS in bytes of this process, or `nil` where `/proc` is unavailable.
    static func residentBytes() -> Int? { residentBytes(path: "/proc/self/statm") }

    /// RSS in bytes of process `pid`, or `nil` when it is gone or `/proc` is unavailable.
    static func residentBytes(pid: Int32) -> Int? { residentBytes(path: "/proc/\(pid)/statm") }

    private static func residentBytes(path: String) -> Int? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 128) { buffer -> Int? in
            let count = read(fd, buffer.baseAddress, buffer.count)
            guard count > 0 else { return nil }
            // statm: "size resident shared text lib data dt", in pages.
            var field = 0
            var value = 0
            for byte in buffer[0..<count] {
                if byte == UInt8(ascii: " ") {
                    if field == 1 { break }
                    field += 1
                    value = 0
                } else if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                    value = value * 10 + Int(byte - UInt8(ascii: "0"))
                } else {
                    break
                }
            }
            return field == 1 ? value * pageSize : nil
        }
    }
}
