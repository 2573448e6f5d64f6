import type { Account, Device, LiveStream } from "../api/types";

function formatTime(iso: string | null): string {
  if (!iso) return "—";
  const time = new Date(iso);
  return Number.isNaN(time.getTime()) ? iso : time.toLocaleString();
}

function formatPrice(minor: number, currency: string): string {
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(minor / 100);
  } catch {
    return `${(minor / 100).toFixed(2)} ${currency}`;
  }
}

/** Email, plan and limits, as a definition list. */
export function renderAccountSummary(container: HTMLElement, account: Account): void {
  const rows: [string, string, string][] = [
    ["email", "Email", account.email + (account.email_verified ? "" : " (not verified)")],
  ];
  const plan = account.plan;
  if (plan) {
    const status = account.subscription ? ` (${account.subscription.status})` : "";
    rows.push(
      ["plan", "Plan", `${plan.name}${status}, ${formatPrice(plan.price_minor, plan.currency)} a ${plan.period}`],
      [
        "limits",
        "Limits",
        `${plan.max_streams} streams at once · ${plan.max_profiles} profiles · ` +
          `${plan.max_devices} devices · up to ${plan.max_height}p`,
      ],
    );
  } else {
    rows.push(["plan", "Plan", "No subscription: free titles only"]);
  }
  const current = account.profiles.find((profile) => profile.id === account.profile_id);
  rows.push(["profile", "Watching as", current?.name ?? "no profile picked"]);
  if (account.status !== "active") rows.push(["status", "Status", account.status]);

  container.replaceChildren();
  for (const [key, label, value] of rows) {
    const term = document.createElement("dt");
    term.textContent = label;
    const detail = document.createElement("dd");
    detail.dataset["field"] = key;
    detail.textContent = value;
    container.append(term, detail);
  }
}

function row(
  main: string,
  note: string,
  action: { label: string; onClick: () => void },
  data: Record<string, string>,
): HTMLLIElement {
  const item = document.createElement("li");
  Object.assign(item.dataset, data);
  const text = document.createElement("span");
  text.className = "row-text";
  const name = document.createElement("span");
  name.className = "row-name";
  name.textContent = main;
  const detail = document.createElement("span");
  detail.className = "row-note";
  detail.textContent = note;
  text.append(name, detail);
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = action.label;
  button.addEventListener("click", () => {
    button.disabled = true;
    action.onClick();
  });
  item.append(text, button);
  return item;
}

function emptyRow(text: string): HTMLLIElement {
  const item = document.createElement("li");
  item.className = "empty";
  item.textContent = text;
  return item;
}

/** The household's devices, each with a remove button. */
export function renderDevices(
  list: HTMLElement,
  devices: readonly Device[],
  onRemove: (device: Device) => void,
): void {
  list.replaceChildren(
    ...devices.map((device) =>
      row(
        device.current ? `${device.name} (this device)` : device.name,
        `${device.type} · last seen ${formatTime(device.last_seen_at)}`,
        { label: "Remove", onClick: () => onRemove(device) },
        { deviceId: device.id, current: String(device.current) },
      ),
    ),
  );
  if (devices.length === 0) list.append(emptyRow("No devices."));
}

/** Names for the ids a stream carries (unknown ids are shown as they are). */
export interface StreamNames {
  title: (id: string) => string | undefined;
  profile: (id: string) => string | undefined;
  device: (id: string) => string | undefined;
}

/** The household's live streams, each with an end button. */
export function renderStreams(
  list: HTMLElement,
  streams: readonly LiveStream[],
  names: StreamNames,
  onEnd: (stream: LiveStream) => void,
): void {
  list.replaceChildren(
    ...streams.map((stream) => {
      const who = stream.profile_id ? (names.profile(stream.profile_id) ?? "a profile") : "—";
      const where = stream.current_device
        ? "this device"
        : stream.device_id
          ? (names.device(stream.device_id) ?? "another device")
          : "unknown device";
      return row(
        names.title(stream.title_id) ?? stream.title_id,
        `${who} on ${where} · since ${formatTime(stream.created_at)}`,
        { label: "End", onClick: () => onEnd(stream) },
        { sessionId: stream.session_id, currentDevice: String(stream.current_device) },
      );
    }),
  );
  if (streams.length === 0) list.append(emptyRow("Nothing is playing."));
}
