package io.switchboard.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Chat-like message bodies: Korean and English sentences (sometimes mixed), 10–200 characters,
 * mostly short the way chat is. Emoji are whole code points, never split, so a body is always
 * valid text for the protocol (no lone surrogates, no NUL).
 */
public final class ChatText {
  public static final int MIN_CHARS = 10;
  public static final int MAX_CHARS = 200;

  private static final String[] KO = {
    "안녕하세요! 오늘 회의 몇 시에 시작하나요?",
    "점심 뭐 먹을까요? 저는 김치찌개 땡겨요",
    "ㅋㅋㅋㅋ 진짜 웃기다",
    "네 알겠습니다, 확인해 볼게요.",
    "지금 가는 중이에요. 10분 정도 늦을 것 같아요 ㅠㅠ",
    "어제 보낸 파일 확인하셨나요?",
    "주말에 다 같이 등산 가는 거 어때요?",
    "그거 배포는 내일 오전에 하기로 했어요.",
    "헐 대박… 그게 진짜야?",
    "수고하셨습니다! 내일 봬요 👋",
    "잠깐만요, 전화 좀 받고 올게요.",
    "이번 주 금요일까지 정리해서 공유드릴게요.",
    "오 좋네요 👍 그렇게 진행하시죠.",
    "비 온대요, 우산 챙기세요 ☔",
    "혹시 회의실 예약하셨어요?",
  };
  private static final String[] EN = {
    "hey, are you around?",
    "sounds good to me, let's do it",
    "lol that's hilarious 😂",
    "can you send me the link again? I lost it",
    "running 5 min late, sorry!",
    "did the build pass on your machine?",
    "ok, I'll ping you after lunch.",
    "thanks! that fixed it 🎉",
    "who's joining the call at 3?",
    "I think the staging server is down again",
    "brb coffee ☕",
    "let me check and get back to you by tomorrow.",
    "nice, shipping it now",
    "wait, which branch are you on?",
    "see you at 7 at the usual place",
  };

  private final List<String> pool;
  private final Random random;

  /** Pre-generates {@code size} bodies from {@code seed} so sending allocates nothing new. */
  public ChatText(long seed, int size) {
    this.random = new Random(seed);
    this.pool = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      pool.add(generate(random));
    }
  }

  public String next() {
    return pool.get(random.nextInt(pool.size()));
  }

  /** Synchronized-free variant for callers that keep their own {@link Random}. */
  public String next(Random r) {
    return pool.get(r.nextInt(pool.size()));
  }

  public List<String> pool() {
    return pool;
  }

  static String generate(Random r) {
    // target length: mostly short (chat), a tail of long messages
    double u = r.nextDouble();
    int target = u < 0.6 ? 10 + r.nextInt(30) : u < 0.9 ? 40 + r.nextInt(60) : 100 + r.nextInt(101);
    double koShare = r.nextDouble(); // some users write Korean, some English, some both
    StringBuilder sb = new StringBuilder();
    while (sb.length() < MIN_CHARS || sb.length() < target) {
      String[] lang = r.nextDouble() < koShare ? KO : EN;
      String s = lang[r.nextInt(lang.length)];
      int sep = sb.length() == 0 ? 0 : 1;
      if (sb.length() >= MIN_CHARS && sb.length() + sep + s.length() > target) {
        break;
      }
      if (sb.length() + sep + s.length() > MAX_CHARS) {
        break;
      }
      if (sep == 1) {
        sb.append(' ');
      }
      sb.append(s);
    }
    return sb.toString();
  }
}
