// The sign-in this browser keeps between visits: tokens and the device id, in
// localStorage. Only the API client and the sign-in flow write here.

const KEYS = {
  access: "reelstack.access_token",
  refresh: "reelstack.refresh_token",
  device: "reelstack.device_id",
  profile: "reelstack.profile_id",
} as const;

function read(key: string): string | null {
  try {
    return window.localStorage.getItem(key);
  } catch {
    // Storage disabled (private mode, policy): behave as signed out.
    return null;
  }
}

function write(key: string, value: string | null): void {
  try {
    if (value === null) window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, value);
  } catch {
    // Nothing to do: the sign-in then lasts as long as the page.
  }
}

export const tokens = {
  access(): string | null {
    return read(KEYS.access);
  },
  refresh(): string | null {
    return read(KEYS.refresh);
  },
  /** The device this browser registered at its first sign-in (reused at the next ones). */
  deviceId(): string | null {
    return read(KEYS.device);
  },
  /** The profile picked on this device, as the last token response named it. */
  profileId(): string | null {
    return read(KEYS.profile);
  },
  /** After a login or a refresh: a new pair, and what the server said of the device. */
  storeSession(session: {
    access_token: string;
    refresh_token: string;
    device_id: string | null;
    profile_id: string | null;
  }): void {
    write(KEYS.access, session.access_token);
    write(KEYS.refresh, session.refresh_token);
    if (session.device_id) write(KEYS.device, session.device_id);
    write(KEYS.profile, session.profile_id);
  },
  /** After picking a profile: a new access token that names it (the refresh token stays). */
  storeAccess(accessToken: string, profileId: string | null): void {
    write(KEYS.access, accessToken);
    write(KEYS.profile, profileId);
  },
  /** Signed out: the tokens go, the device id stays unless `forgetDevice`. */
  clear({ forgetDevice = false }: { forgetDevice?: boolean } = {}): void {
    write(KEYS.access, null);
    write(KEYS.refresh, null);
    write(KEYS.profile, null);
    if (forgetDevice) write(KEYS.device, null);
  },
};
