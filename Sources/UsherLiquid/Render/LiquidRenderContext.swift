/// The mutable state of one render: variable scopes, counters, loop registers, resource budgets.
///
/// Nodes, tags and filters receive it `inout`; it is created by ``LiquidTemplate/render(_:environment:)``
/// and never outlives the call, so a parsed template stays immutable and shareable across tasks.
/// Custom tags and filters use the public members to read and write variables and to account for
/// work they do (``chargeAllocation(_:)``, ``countLoopIteration()``).
public struct LiquidRenderContext {
    struct Binding {
        let name: String
        var value: LiquidValue
    }

    enum Interrupt {
        case none, breakLoop, continueLoop
    }

    /// Counters shared by a render and the isolated sub-renders of `render` tags.
    final class Shared {
        var loopIterations = 0
        var allocatedBytes = 0
        var ticks = 0
        let deadline: ContinuousClock.Instant
        var partials: [String: LiquidTemplate] = [:]

        init(deadline: ContinuousClock.Instant) {
            self.deadline = deadline
        }
    }

    /// The environment of this render (filters, template source, clock, time zone, limits, flags).
    public let environment: LiquidEnvironment
    let limits: LiquidLimits
    let globals: [String: LiquidValue]
    let fallback: (any LiquidDrop)?
    let slots: [String: String]
    let shared: Shared

    /// Ruby's outermost scope: where `assign` and `capture` write.
    var locals: [String: LiquidValue] = [:]
    /// Scopes pushed by `for`, `tablerow`, `include`…: a flat list of bindings searched from the end.
    var stack: [Binding] = []
    /// `increment`/`decrement` counters (a namespace of their own, read after locals).
    var counters: [String: Int] = [:]

    var cycles: [String: Int] = [:]
    var forOffsets: [String: Int] = [:]
    var ifchangedLast: String?
    var forloops: [ForloopDrop] = []
    var interrupt: Interrupt = .none

    var partialDepth = 0
    var nesting = 0
    /// Inside a partial rendered with `render`: `include` is refused there, as in Ruby Liquid.
    var isolated = false
    /// Name of the partial being rendered, for error messages (`nil` for the main template).
    var templateName: String?
    /// Source of the template being rendered, for turning node offsets into line numbers.
    var currentSource: LineIndex?
    /// `layout` support: blocks collected from the child template, see LayoutTag.
    var layoutBlocks: [String: String]?
    var collectingLayoutBlocks = false

    init(environment: LiquidEnvironment, context: LiquidContext) {
        self.environment = environment
        self.limits = environment.limits
        self.globals = context.globals
        self.fallback = context.fallback
        self.slots = context.slots
        self.shared = Shared(deadline: ContinuousClock.now.advanced(by: environment.limits.maxRenderTime))
    }

    /// A fresh context for a `render` partial: same globals, environment and budgets, nothing else.
    func isolatedSubcontext() -> LiquidRenderContext {
        var sub = self
        sub.locals = [:]
        sub.stack = []
        sub.counters = [:]
        sub.cycles = [:]
        sub.forOffsets = [:]
        sub.ifchangedLast = nil
        sub.forloops = []
        sub.interrupt = .none
        sub.isolated = true
        sub.layoutBlocks = nil
        sub.collectingLayoutBlocks = false
        return sub
    }

    // MARK: - Variables

    /// The value of variable `name` as a template would see it, or `nil` when it is not defined.
    public func variable(_ name: String) throws -> LiquidValue? {
        var i = stack.count - 1
        while i >= 0 {
            if stack[i].name == name { return stack[i].value }
            i -= 1
        }
        if !locals.isEmpty, let v = locals[name] { return v }
        if !counters.isEmpty, let c = counters[name] { return .int(c) }
        if let v = globals[name] { return v }
        if let fallback {
            do {
                return try fallback.liquidValue(forKey: name)
            } catch {
                throw LiquidRenderError.wrapping(error)
            }
        }
        return nil
    }

    /// Sets a variable in the outermost scope, as `assign` does.
    public mutating func assign(_ name: String, _ value: LiquidValue) {
        locals[name] = value
    }

    /// The host-provided HTML for a page slot (see ``LiquidContext/slots``).
    public func slot(_ name: String) -> String? { slots[name] }

    /// Starts a scope for bindings made with ``bind(_:_:)``; pass the result to ``popScope(_:)``.
    public func pushScope() -> Int { stack.count }

    public mutating func popScope(_ mark: Int) {
        if mark < stack.count { stack.removeSubrange(mark...) }
    }

    /// Binds `name` in the innermost scope (a loop variable, an include argument) and returns its slot.
    @discardableResult
    public mutating func bind(_ name: String, _ value: LiquidValue) -> Int {
        stack.append(Binding(name: name, value: value))
        return stack.count - 1
    }

    mutating func rebind(_ slot: Int, _ value: LiquidValue) {
        if slot < stack.count { stack[slot].value = value }
    }

    // MARK: - Budgets

    /// Counts one loop iteration against ``LiquidLimits/maxLoopIterations`` and checks the time budget.
    public mutating func countLoopIteration() throws(LiquidRenderError) {
        shared.loopIterations += 1
        if shared.loopIterations > limits.maxLoopIterations {
            throw LiquidRenderError(
                .limitExceeded(.loopIterations),
                "loop iteration limit of \(limits.maxLoopIterations) exceeded")
        }
        if shared.loopIterations & 63 == 0 { try checkTime() }
    }

    /// Counts bytes a filter or tag built against ``LiquidLimits/maxAllocatedBytes``.
    public mutating func chargeAllocation(_ bytes: Int) throws(LiquidRenderError) {
        let (total, overflow) = shared.allocatedBytes.addingReportingOverflow(bytes)
        shared.allocatedBytes = overflow ? Int.max : total
        if overflow || total > limits.maxAllocatedBytes {
            throw LiquidRenderError(
                .limitExceeded(.allocatedBytes),
                "template built more than \(limits.maxAllocatedBytes) bytes of strings")
        }
    }

    /// Refuses a collection larger than ``LiquidLimits/maxCollectionSize``.
    public func checkCollectionSize(_ count: Int) throws(LiquidRenderError) {
        if count > limits.maxCollectionSize {
            throw LiquidRenderError(
                .limitExceeded(.collectionSize),
                "collection of \(count) items exceeds the limit of \(limits.maxCollectionSize)")
        }
    }

    /// Stops the render when its time budget is spent.
    public func checkTime() throws(LiquidRenderError) {
        if ContinuousClock.now > shared.deadline {
            throw LiquidRenderError(
                .limitExceeded(.renderTime),
                "render took longer than \(limits.maxRenderTime)")
        }
    }

    @inline(__always)
    mutating func tick() throws(LiquidRenderError) {
        shared.ticks &+= 1
        if shared.ticks & 1023 == 0 { try checkTime() }
    }

    @inline(__always)
    func checkOutput(_ out: String) throws(LiquidRenderError) {
        if out.utf8.count > limits.maxOutputBytes {
            throw LiquidRenderError(
                .limitExceeded(.outputSize),
                "output is larger than \(limits.maxOutputBytes) bytes")
        }
    }

    mutating func enterNesting() throws(LiquidRenderError) {
        nesting += 1
        if nesting > limits.maxRenderNesting {
            throw LiquidRenderError(
                .limitExceeded(.renderNesting),
                "blocks nested deeper than \(limits.maxRenderNesting) levels")
        }
    }
}
