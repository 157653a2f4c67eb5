import UsherLiquid

extension JSONValue {
    /// The value as Liquid sees it (objects keep their key order).
    public var liquidValue: LiquidValue {
        switch self {
        case .null: .nil
        case .bool(let b): .bool(b)
        case .int(let i): Int(exactly: i).map(LiquidValue.int) ?? .float(Double(i))
        case .double(let d): .float(d)
        case .string(let s): .string(s)
        case .array(let items): .array(items.map(\.liquidValue))
        case .object(let object): object.liquidValue
        }
    }
}

extension JSONObject {
    public var liquidValue: LiquidValue {
        .hash(LiquidHash(self.map { ($0.key, $0.value.liquidValue) }))
    }
}
