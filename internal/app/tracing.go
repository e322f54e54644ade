package app

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// newTracer builds the App's OpenTelemetry tracer when tracing is configured (or a test hands
// an exporter): a provider of its own — nothing global — that batches spans to the OTLP/HTTP
// endpoint. The App shuts it down, flushing, on Close.
func (a *App) newTracer(ctx context.Context, o Options) (trace.Tracer, error) {
	c := a.cfg.Tracing
	if c.OTLPEndpoint == "" && o.TraceExporter == nil {
		return nil, nil
	}
	ratio := c.SampleRatio
	if ratio == 0 {
		ratio = 1
	}
	opts := []sdktrace.TracerProviderOption{sdktrace.WithSampler(sdktrace.TraceIDRatioBased(ratio)),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "sigil")))}
	if o.TraceExporter != nil {
		opts = append(opts, sdktrace.WithSyncer(o.TraceExporter))
	} else {
		exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(c.OTLPEndpoint))
		if err != nil {
			return nil, fmt.Errorf("app: tracing: %w", err)
		}
		opts = append(opts, sdktrace.WithBatcher(exp))
	}
	a.tracing = sdktrace.NewTracerProvider(opts...)
	return a.tracing.Tracer("github.com/sigil-idp/sigil"), nil
}
