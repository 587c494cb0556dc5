package io.switchboard.signaling.steer;

/** Knobs of the steering rules and of the learning rule on top of them. */
public final class SteeringOptions {
  private int meshMax = 6;
  private int minSamples = 5;
  private double minSuccessRate = 0.2;
  private int window = 20;
  private long learningWindowMs = 3_600_000;
  private int maxCountedPairs = 100_000;

  public SteeringOptions() {
  }

  public SteeringOptions(SteeringOptions other) {
    this.meshMax = other.meshMax;
    this.minSamples = other.minSamples;
    this.minSuccessRate = other.minSuccessRate;
    this.window = other.window;
    this.learningWindowMs = other.learningWindowMs;
    this.maxCountedPairs = other.maxCountedPairs;
  }

  /** Rooms with more connections than this stay on the relay: a full mesh costs n-1 channels per peer. */
  public int getMeshMax() {
    return meshMax;
  }

  public SteeringOptions setMeshMax(int meshMax) {
    this.meshMax = meshMax;
    return this;
  }

  /** Outcomes a class pair needs in the window before its success rate overrides the rule table. */
  public int getMinSamples() {
    return minSamples;
  }

  public SteeringOptions setMinSamples(int minSamples) {
    this.minSamples = minSamples;
    return this;
  }

  /** Below this success rate a mode is skipped for the class pair. */
  public double getMinSuccessRate() {
    return minSuccessRate;
  }

  public SteeringOptions setMinSuccessRate(double minSuccessRate) {
    this.minSuccessRate = minSuccessRate;
    return this;
  }

  /** The newest outcomes kept per class pair and mode. */
  public int getWindow() {
    return window;
  }

  public SteeringOptions setWindow(int window) {
    this.window = window;
    return this;
  }

  /** Outcomes older than this are forgotten, so a demoted class pair is tried again later. */
  public long getLearningWindowMs() {
    return learningWindowMs;
  }

  public SteeringOptions setLearningWindowMs(long learningWindowMs) {
    this.learningWindowMs = learningWindowMs;
    return this;
  }

  /** User and address pairs remembered as counted in the learning window (each counts once); oldest forgotten first. */
  public int getMaxCountedPairs() {
    return maxCountedPairs;
  }

  public SteeringOptions setMaxCountedPairs(int maxCountedPairs) {
    this.maxCountedPairs = maxCountedPairs;
    return this;
  }

  public void validate() {
    if (meshMax < 2) {
      throw new IllegalArgumentException("steering.meshMax must be >= 2");
    }
    if (minSamples < 1 || window < minSamples) {
      throw new IllegalArgumentException("steering needs 1 <= minSamples <= window");
    }
    if (!(minSuccessRate >= 0 && minSuccessRate <= 1)) {
      throw new IllegalArgumentException("steering.minSuccessRate must be within 0..1");
    }
    if (maxCountedPairs < 1) {
      throw new IllegalArgumentException("steering.maxCountedPairs must be >= 1");
    }
    if (learningWindowMs < 1000) {
      throw new IllegalArgumentException("steering.learningWindowMs must be >= 1000");
    }
  }
}
