// Starts the app in JIT mode: the Angular compiler in the bundle compiles the templates in the
// browser. Angular's JIT reads constructor parameter types from decorator metadata, which tsc
// emits (emitDecoratorMetadata) and reflect-metadata lets it read.
import 'reflect-metadata';
import 'zone.js/dist/zone';
import '@angular/compiler';
import { enableProdMode } from '@angular/core';
import { platformBrowserDynamic } from '@angular/platform-browser-dynamic';

import { AppModule } from './app/app.module';

enableProdMode();
platformBrowserDynamic().bootstrapModule(AppModule).catch((err) => {
  console.error(err);
  const p = document.createElement('pre');
  p.className = 'err';
  p.setAttribute('data-testid', 'bootstrap-error');
  p.textContent = String(err && err.stack || err);
  document.body.appendChild(p);
});
