import Testing
@testable import Promotion

@Test func PromotionModuleLinks() { #expect(Bool(true)) }
