// The template editor: Liquid source on the left, a live preview (debounced) on the right with
// warnings for undefined variables and the list of variables the event offers, save / revert to
// the shipped text, and a test send. Unsaved edits are not lost without asking.
import { useEffect, useState } from 'react';
import { client, ok } from '../api.ts';
import type { ApiError } from '../api.ts';
import { ConfirmDialog } from '../components/Confirm.tsx';
import { useUnsavedChanges } from '../components/Unsaved.tsx';
import { ErrorNote, Field, Loading } from '../components/ui.tsx';
import { dateTime, humanize } from '../format.ts';
import { useAction, useApi } from '../hooks.ts';
import { navigate, useLocation, withParams } from '../router.tsx';
import type { RenderedTemplate, TemplateListItem } from '../types.ts';

const keyOf = (t: { event: string; channel: string; locale: string }) => `${t.event}/${t.channel}/${t.locale}`;

function Editor({ item, onSaved }: { item: TemplateListItem; onSaved: () => void }) {
  const path = { event: item.event, channel: item.channel, locale: item.locale };
  const loaded = useApi(`tpl:${keyOf(item)}`, () =>
    ok(client.GET('/api/v1/templates/{event}/{channel}/{locale}', { params: { path } })),
  );
  const [subject, setSubject] = useState('');
  const [body, setBody] = useState('');
  const [html, setHtml] = useState('');
  const [preview, setPreview] = useState<RenderedTemplate>();
  const [previewError, setPreviewError] = useState<ApiError>();
  const [saved, setSaved] = useState<string>();
  const [to, setTo] = useState('');
  const t = loaded.data;

  // The draft starts from each template text the server sends (the first load, after a save or a
  // revert), set while rendering: an effect would commit empty fields first, and a keystroke
  // typed before it ran would be overwritten.
  const [draftOf, setDraftOf] = useState<typeof t>();
  if (t && t !== draftOf) {
    setDraftOf(t);
    setSubject(t.subject ?? '');
    setBody(t.body);
    setHtml(t.html ?? '');
  }

  // Re-render 400 ms after the last keystroke; a late answer for older text is dropped.
  useEffect(() => {
    if (!t) return;
    let live = true;
    const timer = setTimeout(() => {
      ok(
        client.POST('/api/v1/templates/preview', {
          body: {
            event: item.event,
            channel: item.channel,
            locale: item.locale,
            subject: t.subject === null && !subject ? null : subject,
            body: body || ' ',
            html: html || null,
          },
        }),
      ).then(
        (r) => {
          if (!live) return;
          setPreview(r);
          setPreviewError(undefined);
        },
        (e: ApiError) => live && setPreviewError(e),
      );
    }, 400);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [t, item, subject, body, html]);

  const save = useAction(async () => {
    const r = await ok(
      client.PUT('/api/v1/templates/{event}/{channel}/{locale}', {
        params: { path },
        body: { subject: t?.subject === null && !subject ? null : subject, body, html: html || null },
      }),
    );
    setSaved(`Saved ${dateTime(r.updated_at ?? new Date().toISOString())}.`);
    onSaved();
    await loaded.reload();
    return r;
  });
  const [reverting, setReverting] = useState(false);
  const revert = useAction(async () => {
    await ok(client.DELETE('/api/v1/templates/{event}/{channel}/{locale}', { params: { path } }));
    setReverting(false);
    setSaved('Reverted to the shipped template.');
    onSaved();
    await loaded.reload();
    return true;
  });
  const send = useAction((channel: 'email' | 'internal') =>
    ok(
      client.POST('/api/v1/templates/{event}/{channel}/{locale}/test-send', {
        params: { path: { ...path, channel } },
        body: { to },
      }),
    ),
  );
  const [sent, setSent] = useState<string>();
  const dirty = t ? subject !== (t.subject ?? '') || body !== t.body || html !== (t.html ?? '') : false;
  const leaving = useUnsavedChanges(dirty, 'this template');

  if (loaded.loading && !t) return <Loading />;
  if (!t) return <ErrorNote error={loaded.error} />;
  return (
    <div className="editor">
      {leaving}
      <div className="editor-source stack">
        <p className="muted small">
          {t.is_override
            ? `Your version (changed ${dateTime(t.updated_at)}).`
            : 'The shipped template. Saving creates your version.'}
        </p>
        {t.subject !== null || item.channel === 'email' ? (
          <Field label="Subject" error={save.error?.fieldError('subject')}>
            {(id, d) => (
              <input id={id} aria-describedby={d} value={subject} onChange={(e) => setSubject(e.target.value)} />
            )}
          </Field>
        ) : null}
        <Field label="Body" hint="Liquid: {{ customer.name }}, {% if … %}." error={save.error?.fieldError('body')}>
          {(id, d) => (
            <textarea
              id={id}
              aria-describedby={d}
              className="mono"
              rows={14}
              value={body}
              onChange={(e) => setBody(e.target.value)}
            />
          )}
        </Field>
        {item.channel === 'email' ? (
          <details>
            <summary>HTML version</summary>
            <Field label="HTML body" error={save.error?.fieldError('html')}>
              {(id, d) => (
                <textarea
                  id={id}
                  aria-describedby={d}
                  className="mono"
                  rows={10}
                  value={html}
                  onChange={(e) => setHtml(e.target.value)}
                />
              )}
            </Field>
          </details>
        ) : null}
        <ErrorNote error={save.error} fields={['subject', 'body', 'html']} />
        <ConfirmDialog
          title="Revert to the shipped template"
          open={reverting}
          confirm="Revert template"
          danger
          busy={revert.busy}
          error={revert.error}
          onCancel={() => setReverting(false)}
          onConfirm={() => void revert.run()}
        >
          <p>
            Your version of this template is deleted and the next messages use the text Billflow ships.
            {dirty ? ' Your unsaved edits are lost too.' : ''} This cannot be undone.
          </p>
        </ConfirmDialog>
        {saved && !dirty ? (
          <div className="note note-ok" role="status">
            {saved}
          </div>
        ) : null}
        <div className="row">
          <button type="button" className="primary" disabled={save.busy || !dirty} onClick={() => void save.run()}>
            Save template
          </button>
          {t.is_override ? (
            <button type="button" disabled={revert.busy} onClick={() => setReverting(true)}>
              Revert to shipped
            </button>
          ) : null}
        </div>
        {item.channel === 'slack' ? null : (
          <form
            className="test-send"
            onSubmit={(e) => {
              e.preventDefault();
              setSent(undefined);
              if (item.channel === 'slack') return;
              void send
                .run(item.channel)
                .then(
                  (r) =>
                    r &&
                    setSent(
                      r.delivered
                        ? `Sent via ${r.transport}: “${r.subject ?? ''}”.`
                        : `Not delivered: ${r.error ?? 'unknown error'}`,
                    ),
                );
            }}
          >
            <Field label="Send a test to" hint="Sends the saved version with sample data.">
              {(id, d) => (
                <div className="input-row">
                  <input
                    id={id}
                    aria-describedby={d}
                    type="email"
                    required
                    value={to}
                    onChange={(e) => setTo(e.target.value)}
                  />
                  <button type="submit" disabled={send.busy}>
                    Send test
                  </button>
                </div>
              )}
            </Field>
            <ErrorNote error={send.error} />
            {sent ? (
              <div className="note" role="status">
                {sent}
              </div>
            ) : null}
          </form>
        )}
      </div>
      <section className="editor-preview" aria-label="Preview" aria-live="polite">
        <h3>Preview</h3>
        <p className="muted small">Rendered with sample data.</p>
        <ErrorNote error={previewError} title="The template does not render" />
        {preview && preview.warnings.length > 0 ? (
          <div className="note note-warn" role="alert" data-testid="preview-warnings">
            <p>These variables are not defined for this event; they render blank:</p>
            <ul>
              {preview.warnings.map((w) => (
                <li key={w.field}>
                  <code>{w.variable}</code> in the {w.field === 'html' ? 'HTML body' : w.field}
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        {preview ? (
          <div className="preview-box">
            {preview.subject ? (
              <div className="preview-subject">
                <span className="muted">Subject:</span> <span data-testid="preview-subject">{preview.subject}</span>
              </div>
            ) : null}
            <pre className="preview-body" data-testid="preview-body">
              {preview.body}
            </pre>
          </div>
        ) : (
          <Loading label="Rendering…" />
        )}
        {preview ? <VariablesPanel variables={preview.variables} /> : null}
      </section>
    </div>
  );
}

/** What the event offers its templates: each variable as written in Liquid, with its sample value. */
function VariablesPanel({ variables }: { variables: RenderedTemplate['variables'] }) {
  return (
    <details className="variables" open>
      <summary>Variables ({variables.length})</summary>
      <p className="muted small">
        Write <code>{'{{ customer.name }}'}</code>; a name with <code>[]</code> is a field of each item of a list (
        <code>{'{% for a in alerts %}{{ a.step }}{% endfor %}'}</code>). Amounts are minor units:{' '}
        <code>{'{{ payment.amount | money: payment.currency }}'}</code>.
      </p>
      <dl className="variable-list" aria-label="Variables">
        {variables.map((v) => (
          <div key={v.name}>
            <dt>
              <code>{v.name}</code>
            </dt>
            <dd className="muted small">{v.example}</dd>
          </div>
        ))}
      </dl>
    </details>
  );
}

export function TemplatesTab() {
  const loc = useLocation();
  const list = useApi('templates', () => ok(client.GET('/api/v1/templates')));
  const items = list.data?.items ?? [];
  const selectedKey = loc.search.get('template') ?? (items[0] ? keyOf(items[0]) : '');
  const selected = items.find((i) => keyOf(i) === selectedKey) ?? items[0];
  return (
    <section className="card" aria-label="Templates">
      <h2>Templates</h2>
      <ErrorNote error={list.error} />
      {list.loading && !list.data ? <Loading /> : null}
      {items.length > 0 ? (
        <Field label="Template">
          {(id) => (
            <select
              id={id}
              value={selected ? keyOf(selected) : ''}
              onChange={(e) => navigate(withParams(loc, { template: e.target.value }), { replace: true })}
            >
              {items.map((i) => (
                <option key={keyOf(i)} value={keyOf(i)}>
                  {humanize(i.event)} · {i.channel} · {i.locale}
                  {i.is_override ? ' (customized)' : ''}
                </option>
              ))}
            </select>
          )}
        </Field>
      ) : null}
      {selected ? <Editor key={keyOf(selected)} item={selected} onSaved={() => void list.reload()} /> : null}
    </section>
  );
}
