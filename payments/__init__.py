"""The Stripe adapter: `StripeGateway` implements `scheduling.payments.PaymentGateway` over the
official `stripe` library; `webhooks.verify_event` turns a signed delivery into a domain
`PaymentEvent`; `errors.translate` maps Stripe's exceptions to domain errors."""
