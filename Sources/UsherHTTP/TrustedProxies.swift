import Foundation
import UsherCore

#if canImport(Glibc)
    import Glibc
#endif

/// The proxies whose `X-Forwarded-For` is believed; everybody else's is ignored so a client cannot pick the
/// address that rate limits and logs see.
public struct TrustedProxies: Sendable, Equatable {
    private struct Block: Sendable, Equatable {
        var network: [UInt8]
        var prefixLength: Int
    }

    private let blocks: [Block]

    public static let none = TrustedProxies(blocks: [])

    private init(blocks: [Block]) { self.blocks = blocks }

    /// Parses a comma-separated list of addresses and CIDR blocks (`10.0.0.0/8, 127.0.0.1, ::1`).
    public init(_ list: String) throws(UsherError) {
        var blocks: [Block] = []
        for raw in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !raw.isEmpty {
            let parts = raw.split(separator: "/", maxSplits: 1).map(String.init)
            guard let address = Self.parseIP(parts[0]) else {
                throw UsherError(.invalidInput, "trusted-proxies: '\(raw)' is not an IP address or CIDR block")
            }
            var prefix = address.count * 8
            if parts.count == 2 {
                guard let p = Int(parts[1]), (0...address.count * 8).contains(p) else {
                    throw UsherError(.invalidInput, "trusted-proxies: '\(raw)' has an invalid prefix length")
                }
                prefix = p
            }
            blocks.append(Block(network: address, prefixLength: prefix))
        }
        self.blocks = blocks
    }

    public func contains(_ address: String) -> Bool {
        guard let bytes = Self.parseIP(address) else { return false }
        return blocks.contains { block in
            guard block.network.count == bytes.count else { return false }
            var remaining = block.prefixLength
            for i in 0..<bytes.count where remaining > 0 {
                let bits = min(8, remaining)
                let mask: UInt8 = bits == 8 ? 0xFF : ~(0xFF >> UInt8(bits))
                if bytes[i] & mask != block.network[i] & mask { return false }
                remaining -= bits
            }
            return true
        }
    }

    /// The client address for a request from `peer` carrying `forwardedFor` (the raw header, possibly several).
    /// Walks the chain from the right, skipping trusted hops, and stops at the first address not trusted.
    public func clientAddress(peer: String?, forwardedFor: [String]) -> String? {
        guard let peer, contains(peer), !forwardedFor.isEmpty else { return peer }
        let hops = forwardedFor.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
        var candidate = peer
        for hop in hops.reversed() {
            guard Self.parseIP(hop) != nil else { return candidate }
            candidate = hop
            if !contains(hop) { return hop }
        }
        return candidate
    }

    static func parseIP(_ text: String) -> [UInt8]? {
        // inet_pton writes network-order bytes into the buffer: 4 for IPv4, 16 for IPv6.
        var buffer = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET, text, &buffer) == 1 { return Array(buffer.prefix(4)) }
        if inet_pton(AF_INET6, text, &buffer) == 1 { return buffer }
        return nil
    }
}
